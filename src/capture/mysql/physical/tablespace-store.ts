import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../../../errors.js'
import { forEachLimit } from '../../../lib/index.js'
import type { DriverContext, TreeWriter } from '../../ports.js'
import { fileNameOf } from '../names.js'
import type {
  FileDigest,
  PhysicalDatabaseEntry,
  PhysicalTableEntry,
  TableContent,
} from './physical-entry.js'
import type { PhysicalTable } from './physical-tables.js'
import type { TableFingerprint } from '../table-fingerprint.js'

/** The tablespaces stored, before their lists are written (writeTableLists). */
export interface StoredTablespaces {
  /** The tables stored, as given. */
  readonly tables: readonly PhysicalTable[]
  /** Each table's entry and database, without its content hash. */
  readonly entries: readonly { readonly db: string; readonly entry: PhysicalTableEntry }[]
  readonly bytes: number
}

/**
 * Streams each physical table's prepared `.ibd` and `.cfg` from the backup in `backupDir`
 * into `services/<service>/<db>/physical/` (two at a time, hashed on the way) and its
 * definition into `<db>/<file>.sql` (docs/FORMAT.md, "MySQL physical mode"). Rejects when
 * the backup lacks a table's files.
 */
export async function storeTablespaces(
  tree: TreeWriter,
  service: string,
  backupDir: string,
  tables: readonly PhysicalTable[],
  ctx: DriverContext,
): Promise<StoredTablespaces> {
  const entries: { db: string; entry: PhysicalTableEntry }[] = []
  let bytesDone = 0
  await forEachLimit(
    tables,
    2,
    async (c, signal) => {
      const base = `services/${service}/${fileNameOf(c.db)}`
      const file = fileNameOf(c.name)
      const from = join(backupDir, c.db, c.name)
      for (const ext of ['ibd', 'cfg'])
        if (!(await exists(`${from}.${ext}`)))
          throw new CofferError(
            'capture_failed',
            `The physical backup holds no ${c.name}.${ext} for ${c.db}.${c.name}; capture again.`,
          )
      await writeText(tree, `${base}/${file}.sql`, c.createSql + ';\n', ctx, signal)
      const store = (ext: string): Promise<FileDigest> =>
        storeFile(tree, `${from}.${ext}`, `${base}/physical/${file}.${ext}`, ctx, signal, (n) => {
          bytesDone += n
          ctx.progress({ bytesDone, itemsDone: 0, phase: 'store' })
        })
      const ibd = await store('ibd')
      const cfg = await store('cfg')
      entries.push({
        db: c.db,
        entry: { name: c.name, file, engine: 'InnoDB', rowFormat: c.rowFormat, ibd, cfg },
      })
    },
    ctx.signal,
  )
  return { tables, entries, bytes: bytesDone }
}

/**
 * Writes `<db>/physical/tables.json` for every database of `dbs`: the stored tables'
 * `entries`, each with its content hash from `contents` and fingerprint from `fingerprints`
 * (keyed `db.table`; a table without a content hash gets neither).
 */
export async function writeTableLists(
  tree: TreeWriter,
  service: string,
  dbs: readonly string[],
  entries: StoredTablespaces['entries'],
  contents: ReadonlyMap<string, TableContent>,
  fingerprints: ReadonlyMap<string, TableFingerprint>,
  ctx: DriverContext,
): Promise<PhysicalDatabaseEntry[]> {
  const byDb = new Map<string, PhysicalTableEntry[]>(dbs.map((d) => [d, []]))
  for (const { db, entry } of entries) {
    const content = contents.get(`${db}.${entry.name}`)
    const fingerprint = fingerprints.get(`${db}.${entry.name}`)
    byDb.get(db)?.push({
      ...entry,
      ...(content ? { content } : {}),
      ...(content && fingerprint ? { unchangedSince: fingerprint } : {}),
    })
  }
  const out: PhysicalDatabaseEntry[] = []
  for (const db of dbs) {
    const sorted = (byDb.get(db) ?? []).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    )
    const entry: PhysicalDatabaseEntry = { version: 1, name: db, tables: sorted }
    await writeText(
      tree,
      `services/${service}/${fileNameOf(db)}/physical/tables.json`,
      JSON.stringify(entry, null, 2) + '\n',
      ctx,
      ctx.signal,
    )
    out.push(entry)
  }
  return out
}

export async function writeText(
  tree: TreeWriter,
  path: string,
  text: string,
  ctx: DriverContext,
  signal: AbortSignal,
): Promise<void> {
  async function* once(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(text, 'utf8')
  }
  await tree.writeFile(path, once(), { signal, mtime: ctx.now() })
}

async function storeFile(
  tree: TreeWriter,
  from: string,
  to: string,
  ctx: DriverContext,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<FileDigest> {
  const hash = createHash('sha256')
  async function* read(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(from, { highWaterMark: 1 << 20, signal })) {
      const b = chunk as Buffer
      hash.update(b)
      onBytes(b.length)
      yield b
    }
  }
  const { size } = await tree.writeFile(to, read(), { signal, mtime: ctx.now() })
  return { size, sha256: hash.digest('hex') }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
