import type { PlannedTable } from './mysql-restore.js'
import type { RowDiff } from './row-diff.js'
import { showCreateTable, type TableInfo } from './schema-reader.js'
import type { MysqlSession } from './session.js'
import { stillUnchanged, type liveFingerprints, type ServerIdentity } from './table-fingerprint.js'
import { liveTableHash, tableReadOf, type TableRead } from './table-parts.js'
import {
  autoIncrementOf,
  diffLiveTable,
  patchKeys,
  withoutAutoIncrement,
  type PatchSource,
  type TablePatch,
} from './table-patch.js'

/** What the delta plan found of the compared tables (docs/MYSQL.md, "Restore", step 1). */
export interface Comparison {
  /** Equal to the snapshot: kept. */
  readonly same: Set<string>
  /** Of `same`, those the server vouched for, not read. */
  readonly unread: string[]
  /** To patch in place. */
  readonly patches: Map<string, TablePatch>
}

/** A table to compare: `create` is the snapshot's definition renamed into the target. */
export interface ComparedTable {
  readonly t: PlannedTable
  readonly create: string
  readonly live: TableInfo
}

/** One piece of reading: a table's content hash, or one stored part of a table to patch. */
type Work =
  | { readonly kind: 'hash'; readonly table: ComparedTable; readonly bytes: number }
  | {
      readonly kind: 'diff'
      readonly table: ComparedTable
      readonly keys: readonly number[]
      /** The stored part (its index), or undefined for the whole table at once. */
      readonly part: number | undefined
      readonly bytes: number
    }

/**
 * Compares the live tables with the snapshot's. Definitions first (`SHOW CREATE TABLE`, on
 * `sessions[0]`); then the rows, spread over the sessions, biggest first, each session in its
 * own snapshot transaction: a table's content hash, or, for a table that can be patched
 * (`patches` given, table-patch.ts), a row diff per stored part, so that the parts of one big
 * table are read side by side. A table the server vouched for (`vouched`) is not read.
 */
export async function compareTables(
  sessions: readonly MysqlSession[],
  tables: readonly ComparedTable[],
  to: string,
  vouched:
    { server: ServerIdentity; live: Awaited<ReturnType<typeof liveFingerprints>> } | undefined,
  patches: PatchSource | undefined,
  signal: AbortSignal,
): Promise<Comparison> {
  const s = sessions[0]!
  const same = new Set<string>()
  const unread: string[] = []
  const work: Work[] = []
  const liveCreates = new Map<string, string>()
  const diffs = new Map<string, (RowDiff | undefined)[]>()
  for (const table of tables) {
    const { t, create, live } = table
    const liveCreate = await showCreateTable(s, to, t.name)
    liveCreates.set(t.name, liveCreate)
    if (vouched && stillUnchanged(t.unchangedSince, vouched.server, vouched.live, t.name)) {
      if (liveCreate === create) {
        same.add(t.name)
        unread.push(t.name)
      }
      continue
    }
    const stored = patches?.table(t.name)
    const sameButCounter = withoutAutoIncrement(liveCreate) === withoutAutoIncrement(create)
    const keys = stored && sameButCounter ? patchKeys(live, liveCreate, stored.columns) : undefined
    if (stored && keys) {
      // Parts are ranges of the one integer key: each is diffed on its own.
      const byPart =
        stored.parts.length > 1 &&
        live.primaryKey.length === 1 &&
        stored.splitColumn === live.primaryKey[0]
      diffs.set(t.name, new Array<RowDiff | undefined>(byPart ? stored.parts.length : 1))
      if (byPart)
        stored.parts.forEach((p, i) =>
          work.push({ kind: 'diff', table, keys, part: i, bytes: p.bytes }),
        )
      else work.push({ kind: 'diff', table, keys, part: undefined, bytes: stored.bytes })
    } else if (liveCreate === create) work.push({ kind: 'hash', table, bytes: t.bytes ?? 0 })
  }
  work.sort((a, b) => b.bytes - a.bytes)
  await Promise.all(
    sessions.slice(0, Math.max(1, Math.min(sessions.length, work.length))).map(async (session) => {
      await session.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
      try {
        for (let w = work.shift(); w; w = work.shift()) {
          if (w.kind === 'hash') {
            if (await sameHash(session, w.table, to, signal)) same.add(w.table.t.name)
            continue
          }
          const name = w.table.t.name
          const stored = patches!.table(name)!
          const part = w.part === undefined ? undefined : stored.parts[w.part]!
          const rows = part ? part.rows : stored.rows
          const share = part ? Math.max(part.bytes, 1) / Math.max(stored.bytes, 1) : 1
          diffs.get(name)![w.part ?? 0] = await diffLiveTable(
            session,
            w.table.live,
            w.keys,
            patches!.rows(stored, signal, w.part),
            rows,
            share,
            part ? { from: part.from, to: part.to, column: stored.splitColumn! } : undefined,
            signal,
          )
        }
      } finally {
        await session.query('COMMIT')
      }
    }),
  )
  const out = new Map<string, TablePatch>()
  for (const [name, parts] of diffs) {
    if (parts.some((d) => d === undefined)) continue
    const done = parts as RowDiff[]
    const table = tables.find((x) => x.t.name === name)!
    const sameDefinition = liveCreates.get(name) === table.create
    const diff: RowDiff = {
      writes: done.flatMap((d) => d.writes),
      writeRows: done.reduce((n, d) => n + d.writeRows, 0),
      deletes: done.flatMap((d) => d.deletes),
      deleteRows: done.reduce((n, d) => n + d.deleteRows, 0),
      bytes: done.reduce((n, d) => n + d.bytes, 0),
    }
    if (diff.writeRows + diff.deleteRows === 0 && sameDefinition) {
      same.add(name)
      continue
    }
    out.set(name, {
      diff,
      keys: table.live.primaryKey,
      columns: patches!.table(name)!.columns,
      ...(sameDefinition ? {} : { autoIncrement: autoIncrementOf(table.create) }),
    })
  }
  return { same, unread, patches: out }
}

/** Whether the live table's content hash, over the snapshot's key ranges, is the snapshot's. */
async function sameHash(
  s: MysqlSession,
  { t, live }: ComparedTable,
  to: string,
  signal: AbortSignal,
): Promise<boolean> {
  // Read as a capture reads it (a versioned table with its history), over the snapshot's split.
  const as = tableReadOf(live)
  const read: TableRead = {
    db: to,
    name: t.name,
    columns: as.columns,
    primaryKey: as.primaryKey,
    ...(t.splitColumn ? { splitColumn: t.splitColumn } : {}),
    ...(as.history ? { history: true } : {}),
  }
  const ranges = t.parts.map((p) => ({
    ...(p.from !== undefined ? { from: p.from } : {}),
    ...(p.to !== undefined ? { to: p.to } : {}),
  }))
  return (await liveTableHash(s, read, ranges, signal)) === t.sha256
}
