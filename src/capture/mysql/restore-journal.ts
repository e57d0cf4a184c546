import type { Logger } from '../../lib/index.js'
import { CofferError, RefusedError } from '../../errors.js'
import { runSwitch, type DatabaseSwitch } from './database-switch.js'
import { quoteIdent, sideDatabasePattern, sideDatabases } from './names.js'
import type { MysqlSource } from './mysql-source.js'
import { dropDatabases } from './stage-cleanup.js'
import { cellText, openSession, serverMessage, type MysqlSession } from './session.js'

/**
 * The journal of a restore's switch (docs/MYSQL.md, "Restore", step 4): once every database
 * is staged, the switch of each is written to a table in the journal database
 * `<first target>__coffer_jrnl_<id>` (the id its staging and trash databases share), not yet
 * committed. Marking it committed is the restore's point of no return: from then on a run
 * killed anywhere — between two databases' RENAMEs, or before the objects are all created —
 * is finished by the next restore into any of its targets (`recoverJournals`), never left
 * half-switched. An uncommitted journal is dropped with the staging databases.
 */
const TABLE = 'switch'
/** 2: switches may patch tables (DatabaseSwitch.patch); an older Coffer refuses to replay it. */
const VERSION = 2
const READABLE_VERSIONS: readonly unknown[] = [1, 2]

/** Writes the journal of a restore's switches (not committed); returns its database. */
export async function writeJournal(
  s: MysqlSession,
  id: string,
  switches: readonly DatabaseSwitch[],
): Promise<string> {
  const first = switches[0]
  if (!first) throw new Error('a journal needs at least one switch')
  const db = sideDatabases(first.to, id).journal
  await s.query(`CREATE DATABASE ${quoteIdent(db)} CHARACTER SET utf8mb4`)
  await s.query(
    `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(TABLE)} (doc LONGTEXT CHARACTER SET utf8mb4 NOT NULL, committed TINYINT NOT NULL) ENGINE=InnoDB`,
  )
  await s.query(`INSERT INTO ${quoteIdent(db)}.${quoteIdent(TABLE)} VALUES (?, 0)`, [
    JSON.stringify({ version: VERSION, switches }),
  ])
  return db
}

/** The point of no return: from here on the switch is finished, now or by recovery. */
export async function commitJournal(s: MysqlSession, db: string): Promise<void> {
  await s.query(`UPDATE ${quoteIdent(db)}.${quoteIdent(TABLE)} SET committed = 1`)
}

interface Journal {
  readonly db: string
  readonly committed: boolean
  readonly switches: readonly DatabaseSwitch[]
}

/** The id a side database of a restore ends with. */
function sideId(name: string): string | undefined {
  return /__coffer_(?:stage|trash|jrnl)_([0-9a-f]{8})$/.exec(name)?.[1]
}

async function readJournal(s: MysqlSession, id: string): Promise<Journal | undefined> {
  const rows = await s.query(
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [`%\\_\\_coffer\\_jrnl\\_${id}`],
  )
  const db = rows.map((r) => cellText(r[0]))[0]
  if (db === undefined) return undefined
  const tables = await s.query(
    'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [db, TABLE],
  )
  // Killed between CREATE DATABASE and the INSERT: an empty journal, never committed.
  if (tables.length === 0) return { db, committed: false, switches: [] }
  const row = (
    await s.query(`SELECT doc, committed FROM ${quoteIdent(db)}.${quoteIdent(TABLE)}`)
  )[0]
  if (!row) return { db, committed: false, switches: [] }
  const doc = JSON.parse(cellText(row[0])) as { version?: unknown; switches?: DatabaseSwitch[] }
  if (!READABLE_VERSIONS.includes(doc.version) || !Array.isArray(doc.switches))
    throw new CofferError(
      'restore_failed',
      `The restore journal ${db} is of an unknown version; drop it if no restore is running.`,
    )
  return { db, committed: Number(row[1]) === 1, switches: doc.switches }
}

/** Drops side databases of a restore into `target` (the physical restore's removes files). */
export type DropSide = (target: string, names: readonly string[]) => Promise<void>

/**
 * Finishes the committed switches of killed restores that involve `target`: every
 * database of such a restore is switched in (each switch is idempotent), then its staging,
 * trash and journal databases are dropped with `dropSide`. Uncommitted ones are left to the
 * caller's cleanup (nothing of them was switched). Call it holding the target's restore
 * lock. Refuses (`conflict`) when a committed restore must be finished and another of its
 * targets is being restored right now. Returns the targets finished.
 */
export async function recoverJournals(
  s: MysqlSession,
  target: string,
  log: Logger,
  dropSide: DropSide,
): Promise<string[]> {
  const rows = await s.query(
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [sideDatabasePattern(target)],
  )
  const finished: string[] = []
  for (const id of new Set(rows.map((r) => sideId(cellText(r[0]))))) {
    if (id === undefined) continue
    const journal = await readJournal(s, id)
    if (!journal?.committed) continue
    const done = await lockAndFinish(s, journal, [target], dropSide, log)
    if (!done)
      throw new RefusedError(
        'conflict',
        `An interrupted restore into ${targetsOf(journal).join(', ')} must be finished first, and another restore into one of them is running; try again when it has ended.`,
      )
    finished.push(...done)
  }
  return finished
}

/**
 * Resolves every journal on the server whose targets are free (a restore that holds one
 * resolves it itself): a committed one is finished, an uncommitted one rolled back (its
 * staging databases and the journal dropped; nothing of it was switched). What a process
 * restarting after a crash calls. Returns the targets finished.
 */
export async function recoverAllJournals(
  s: MysqlSession,
  log: Logger,
  dropSide: DropSide,
): Promise<string[]> {
  const rows = await s.query(
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    ['%\\_\\_coffer\\_jrnl\\_%'],
  )
  const finished: string[] = []
  for (const r of rows) {
    const id = sideId(cellText(r[0]))
    if (id === undefined) continue
    const journal = await readJournal(s, id)
    // An empty journal's restore was killed writing it, or is writing it now: which targets
    // it locks is unknown, so it is left to the next restore into them.
    if (journal && journal.switches.length > 0)
      finished.push(...((await lockAndFinish(s, journal, [], dropSide, log, true)) ?? []))
  }
  return finished
}

function targetsOf(journal: Journal): string[] {
  return [...new Set(journal.switches.map((sw) => sw.to))]
}

/**
 * Takes the restore locks of the journal's targets (but those in `held`) without waiting,
 * finishes it if committed (or, with `rollBack`, drops it and its staging databases if
 * not) and releases them. Undefined when a target is busy: a running restore holds it and
 * resolves the journal itself.
 */
async function lockAndFinish(
  s: MysqlSession,
  journal: Journal,
  held: readonly string[],
  dropSide: DropSide,
  log: Logger,
  rollBack = false,
): Promise<string[] | undefined> {
  const others = targetsOf(journal).filter((t) => !held.includes(t))
  const locked: string[] = []
  try {
    for (const t of others) {
      const got = (await s.query('SELECT GET_LOCK(?, 0)', [restoreLockName(t)]))[0]?.[0]
      if (Number(got) !== 1) return undefined
      locked.push(t)
    }
    // Read again under the locks: the restore that wrote it may have finished meanwhile.
    const now = await readJournal(s, journal.db.slice(-8))
    if (!now) return []
    if (!now.committed) {
      if (!rollBack) return []
      for (const sw of now.switches) await dropSide(sw.to, [sw.trash, sw.stage])
      await dropSide(now.switches[0]?.to ?? '', [now.db])
      log.info({ journal: now.db }, 'an interrupted restore was rolled back')
      return []
    }
    const done = await finish(s, now, dropSide)
    log.info({ journal: now.db, databases: done }, 'an interrupted restore was finished')
    return done
  } finally {
    for (const t of locked) await s.query('SELECT RELEASE_LOCK(?)', [restoreLockName(t)])
  }
}

/** The server lock a restore into `target` holds (GET_LOCK), so that one runs at a time. */
export function restoreLockName(target: string): string {
  return `coffer_restore:${target}`
}

/**
 * Takes the restore lock of every target on `s`, pushing each name to `held` (to release
 * with `releaseRestoreLocks`, also after a refusal); refuses (`conflict`) a target whose lock
 * another session holds.
 */
export async function lockRestoreTargets(
  s: MysqlSession,
  targets: readonly string[],
  held: string[],
): Promise<void> {
  for (const to of targets) {
    const name = restoreLockName(to)
    const got = (await s.query('SELECT GET_LOCK(?, 0)', [name]))[0]?.[0]
    if (Number(got) !== 1)
      throw new RefusedError('conflict', `Another restore into the database ${to} is running.`)
    held.push(name)
  }
}

/** Releases locks taken by `lockRestoreTargets`; a session already gone has none. */
export async function releaseRestoreLocks(
  s: MysqlSession | undefined,
  held: readonly string[],
): Promise<void> {
  for (const name of held) await s?.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined)
}

async function finish(
  s: MysqlSession,
  journal: Journal,
  dropSide: (target: string, names: readonly string[]) => Promise<void>,
): Promise<string[]> {
  for (const sw of journal.switches) {
    try {
      await runSwitch(s, sw)
    } catch (e) {
      throw new CofferError(
        'restore_failed',
        `An interrupted restore into ${sw.to} could not be finished: ${serverMessage(e)}. Its journal is the database ${journal.db}; the replaced tables are in ${sw.trash}.`,
        { cause: e },
      )
    }
  }
  for (const sw of journal.switches) await dropSide(sw.to, [sw.trash, sw.stage])
  await dropSide(journal.switches[0]!.to, [journal.db])
  return journal.switches.map((sw) => sw.to)
}

/**
 * Finishes the restores into `source` that were killed after their point of no return
 * (recoverAllJournals over a session of its own). `commit` names journals whose decision was
 * recorded elsewhere (an environment restore's commit record): they are committed first, if
 * they still exist. Returns the databases finished.
 */
export async function recoverMysqlRestores(
  source: MysqlSource,
  log: Logger,
  opts: { readonly commit?: readonly string[] } = {},
): Promise<string[]> {
  const s = await openSession(source)
  try {
    for (const db of opts.commit ?? []) {
      const id = sideId(db)
      const journal = id === undefined ? undefined : await readJournal(s, id)
      if (journal && journal.switches.length > 0) await commitJournal(s, journal.db)
    }
    return await recoverAllJournals(s, log, (_, names) => dropDatabases(s, names))
  } finally {
    s.destroy()
  }
}
