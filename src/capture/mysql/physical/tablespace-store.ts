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

/**
 * Streams each physical table's prepared `.ibd` and `.cfg` from the backup in `backupDir`
 * into `services/<service>/<db>/physical/` (two at a time, hashed on the way), its definition
 * into `<db>/<file>.sql`, and writes `<db>/physical/tables.json` for every database of `dbs`
 * with each table's content hash from `contents` and fingerprint from `fingerprints` (keyed
 * `db.table`; a table without one gets none) (docs/FORMAT.md, "MySQL physical mode"). Rejects when the backup lacks a
 * table's files.
 */
export async function storeTablespaces(
  tree: TreeWriter,
  service: string,
  backupDir: string,
  dbs: readonly string[],
  tables: readonly PhysicalTable[],
  contents: ReadonlyMap<string, TableContent>,
  fingerprints: ReadonlyMap<string, TableFingerprint>,
  ctx: DriverContext,
): Promise<{ readonly entries: readonly PhysicalDatabaseEntry[]; readonly bytes: number }> {
  const byDb = new Map<string, PhysicalTableEntry[]>(dbs.map((d) => [d, []]))
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
      const content = contents.get(`${c.db}.${c.name}`)
      const fingerprint = fingerprints.get(`${c.db}.${c.name}`)
      byDb.get(c.db)?.push({
        name: c.name,
        file,
        engine: 'InnoDB',
        rowFormat: c.rowFormat,
        ibd,
        cfg,
        ...(content ? { content } : {}),
        ...(content && fingerprint ? { unchangedSince: fingerprint } : {}),
      })
    },
    ctx.signal,
  )
  const entries: PhysicalDatabaseEntry[] = []
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
    entries.push(entry)
  }
  return { entries, bytes: bytesDone }
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
