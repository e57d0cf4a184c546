import { messageOf, NotFoundError } from '../../../errors.js'
import type { Logger } from '../../../lib/index.js'
import type { TreeReader } from '../../ports.js'
import { fileNameOf } from '../names.js'
import { sameFingerprint, type TableFingerprint } from '../table-fingerprint.js'
import { parsePhysicalDatabaseEntry, type TableContent } from './physical-entry.js'
import type { PhysicalTable } from './physical-tables.js'

/**
 * The content hashes of the parent physical snapshot that still hold for this capture's
 * tables, keyed `db.table`: a table the server vouches is unchanged since the parent (the
 * same fingerprint, table-fingerprint.ts) with the same definition has the parent's rows,
 * so their hash need not be read again. A parent entry that is missing or damaged only means
 * the table is hashed.
 */
export async function parentContents(
  parent: TreeReader,
  service: string,
  tables: readonly PhysicalTable[],
  fingerprintOf: (db: string, name: string) => TableFingerprint | undefined,
  signal: AbortSignal,
  log: Logger,
): Promise<Map<string, TableContent>> {
  const out = new Map<string, TableContent>()
  for (const db of new Set(tables.map((t) => t.db))) {
    const dir = `services/${service}/${fileNameOf(db)}`
    let entries
    try {
      const path = `${dir}/physical/tables.json`
      entries = parsePhysicalDatabaseEntry(path, await text(parent, path, signal)).tables
    } catch (e) {
      if (signal.aborted) throw signal.reason
      if (!(e instanceof NotFoundError))
        log.warn({ db, reason: messageOf(e) }, 'parent physical entry unreadable')
      continue
    }
    for (const t of tables.filter((x) => x.db === db)) {
      const fp = fingerprintOf(db, t.name)
      const prior = entries.find((x) => x.name === t.name)
      const was = prior?.unchangedSince
      if (!fp || !prior?.content || !was || !sameFingerprint(was, fp)) continue
      try {
        if ((await text(parent, `${dir}/${prior.file}.sql`, signal)) === t.createSql + ';\n')
          out.set(`${db}.${t.name}`, prior.content)
      } catch (e) {
        if (signal.aborted) throw signal.reason
        log.warn({ db, table: t.name, reason: messageOf(e) }, 'parent table unreadable')
      }
    }
  }
  return out
}

async function text(tree: TreeReader, path: string, signal: AbortSignal): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}
