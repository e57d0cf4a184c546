import { messageOf, NotFoundError } from '../../errors.js'
import type { Logger } from '../../lib/index.js'
import type { TreeReader, TreeWriter } from '../ports.js'
import { parseDatabaseEntry, type DatabaseEntry, type TableEntry } from './database-entry.js'
import { fileNameOf } from './names.js'
import { sameFingerprint, type TableFingerprint } from './table-fingerprint.js'

/** What a table of this capture looks like, to be matched with the parent's. */
export interface CapturedTable {
  readonly name: string
  readonly kind: 'table' | 'sequence'
  /** Stored column names, in order. */
  readonly columns: readonly string[]
  readonly splitColumn?: string
  /** The `<file>.sql` text this capture writes. */
  readonly sqlText: string
  readonly fingerprint?: TableFingerprint
}

/**
 * The parent snapshot's tables of one service, so that a capture stores a table the server
 * vouches is unchanged since the parent (same fingerprint: table-fingerprint.ts) by
 * re-adding the parent's part files instead of reading its rows — what restic does for an
 * unchanged file. Only where the parent tree and the writer can (TreeReader.fileNode,
 * TreeWriter.addFile); a damaged or missing parent entry only means the table is read.
 */
export class ParentTables {
  private readonly entries = new Map<string, Promise<DatabaseEntry | undefined>>()

  constructor(
    private readonly parent: TreeReader,
    private readonly tree: TreeWriter,
    private readonly service: string,
    private readonly log: Logger,
  ) {}

  /**
   * The parent's entry of `t` in database `db` when it can stand for this capture's: the same
   * fingerprint on both sides, the same definition, columns and split. Undefined otherwise.
   */
  async unchanged(
    db: string,
    t: CapturedTable,
    signal: AbortSignal,
  ): Promise<TableEntry | undefined> {
    const fp = t.fingerprint
    if (!fp || t.kind !== 'table' || !this.parent.fileNode || !this.tree.addFile) return undefined
    const prior = (await this.entry(db, signal))?.tables.find((x) => x.name === t.name)
    const was = prior?.unchangedSince
    if (
      !prior ||
      !was ||
      !sameFingerprint(was, fp) ||
      prior.kind !== 'table' ||
      prior.splitColumn !== t.splitColumn ||
      prior.columns.join('\n') !== t.columns.join('\n')
    )
      return undefined
    try {
      const sql = await text(this.parent, `${this.dir(db)}/${prior.file}.sql`, signal)
      return sql === t.sqlText ? prior : undefined
    } catch (e) {
      if (signal.aborted) throw signal.reason
      this.log.warn({ db, table: t.name, reason: messageOf(e) }, 'parent table unreadable')
      return undefined
    }
  }

  /** Adds the parent's part files of `entry` to this capture's tree, unread. */
  async reuse(db: string, entry: TableEntry, signal: AbortSignal): Promise<void> {
    const dir = this.dir(db)
    const nodes = []
    for (const part of entry.parts)
      nodes.push({
        path: `${dir}/${part.file}`,
        node: await this.parent.fileNode!(`${dir}/${part.file}`, { signal }),
      })
    for (const n of nodes) this.tree.addFile!(n.path, n.node)
  }

  private dir(db: string): string {
    return `services/${this.service}/${fileNameOf(db)}`
  }

  private entry(db: string, signal: AbortSignal): Promise<DatabaseEntry | undefined> {
    let e = this.entries.get(db)
    if (!e) {
      const path = `${this.dir(db)}/database.json`
      e = text(this.parent, path, signal).then(
        (json) => parseDatabaseEntry(path, json),
        (err: unknown) => {
          if (signal.aborted) throw signal.reason
          if (!(err instanceof NotFoundError))
            this.log.warn({ db, reason: messageOf(err) }, 'parent database entry unreadable')
          return undefined
        },
      )
      // A damaged entry is not fatal: its tables are read.
      e = e.catch((err: unknown) => {
        if (signal.aborted) throw err
        this.log.warn({ db, reason: messageOf(err) }, 'parent database entry unreadable')
        return undefined
      })
      this.entries.set(db, e)
    }
    return e
  }
}

async function text(tree: TreeReader, path: string, signal: AbortSignal): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}
