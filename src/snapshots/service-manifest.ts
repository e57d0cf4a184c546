import type { MysqlCaptureResult, PhysicalCaptureResult } from '../capture/index.js'
import { CofferError } from '../errors.js'
import type { DatabaseService } from './environment.js'
import type { ServiceManifest } from './manifest.js'

type TableManifest = ServiceManifest['databases'][number]['tables'][number]

/**
 * The manifest entry of a service captured logically: per table its exact row count, bytes
 * of its data files and its content hash (what a delta restore compares).
 */
export function logicalServiceManifest(
  service: DatabaseService,
  r: MysqlCaptureResult | undefined,
): ServiceManifest {
  return serviceManifest(service, finished(r, service), 'logical', new Map(), {})
}

/**
 * The manifest entry of a service captured physically (docs/FORMAT.md, "MySQL physical
 * mode"): the logical driver's tables as for a logical capture, plus the physical tables with
 * the server's row estimate, the `.ibd` size and as their hash the rows' content hash (the
 * logical driver's, what a delta restore compares) or, for a live capture, which records
 * none, `ibd-sha256:<hex>`: a digest of the file, never equal to a content hash.
 */
export function physicalServiceManifest(
  service: DatabaseService,
  r: PhysicalCaptureResult | undefined,
): ServiceManifest {
  const p = finished(r, service)
  const physical = new Map<string, TableManifest[]>()
  for (const t of p.tables)
    physical.set(t.db, [
      ...(physical.get(t.db) ?? []),
      {
        name: t.name,
        rows: t.estimatedRows,
        bytes: t.bytes,
        hash: t.contentSha256 ?? `ibd-sha256:${t.ibdSha256}`,
        engine: 'InnoDB',
      },
    ])
  return serviceManifest(service, p.logicalResult, 'physical', physical, {
    physical: {
      tables: p.physical,
      logicalTables: p.logical,
      rows: 'estimated',
      backupMs: p.backupMs,
      incrementalMs: p.incrementalMs,
      prepareMs: p.prepareMs,
      hashMs: p.hashMs,
      storeMs: p.storeMs,
      stagingBytes: p.stagingBytes,
      physicalBytes: p.physicalBytes,
    },
  })
}

function serviceManifest(
  service: DatabaseService,
  r: MysqlCaptureResult,
  mode: 'logical' | 'physical',
  physical: ReadonlyMap<string, readonly TableManifest[]>,
  details: Record<string, unknown>,
): ServiceManifest {
  const databases = r.databases.map((d) => {
    const tables: TableManifest[] = [
      ...d.tables.map((t) => ({ name: t.name, rows: t.rows, bytes: t.bytes, hash: t.sha256 })),
      ...(physical.get(d.name) ?? []),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return { name: d.name, bytes: tables.reduce((n, t) => n + t.bytes, 0), tables }
  })
  return {
    name: service.name,
    kind: 'mysql',
    engine: /mariadb/i.test(r.serverVersion) ? 'mariadb' : 'mysql',
    version: r.serverVersion,
    mode,
    bytes: databases.reduce((n, d) => n + d.bytes, 0),
    databases,
    details: {
      captureMode: r.mode,
      lockMs: r.lockMs,
      ...(r.binlog ? { binlog: r.binlog } : {}),
      nonTransactional: r.nonTransactional,
      ...(r.historyNotStored.length > 0 ? { historyNotStored: r.historyNotStored } : {}),
      ...details,
    },
  }
}

function finished<T>(r: T | undefined, service: DatabaseService): T {
  if (!r)
    throw new CofferError('capture_failed', `Database service ${service.name} did not finish.`)
  return r
}
