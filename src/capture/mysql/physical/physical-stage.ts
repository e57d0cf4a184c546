import { createWriteStream } from 'node:fs'
import { chown, rm, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CofferError } from '../../../errors.js'
import { counted, forEachLimit } from '../../../lib/index.js'
import type { DriverContext, TreeReader } from '../../ports.js'
import type { MysqlRestorePlan, RestorePhase } from '../mysql-restore.js'
import { qualified, quoteIdent, quoteString, sideDatabases } from '../names.js'
import { rehearseObjects } from '../object-rehearsal.js'
import { renameDatabase } from '../object-sql.js'
import { loadDataSql } from '../row-format.js'
import { cellText, type MysqlSession } from '../session.js'
import { SessionPool } from '../session-pool.js'
import type { SelectedDatabase } from './physical-selection.js'
import type { ServerFacts } from './server-facts.js'
import { dropSideDatabases } from './side-cleanup.js'

/** A database staged beside its target, ready to be switched in. */
export interface StagedDatabase {
  readonly selected: SelectedDatabase
  readonly plan: MysqlRestorePlan
  readonly stage: string
  readonly trash: string
  readonly bytes: number
}

/**
 * Stages one database of a physical snapshot (docs/PHYSICAL.md, "Restore", steps 2 and 3):
 * every table of `plan.reload` (the others are kept in the target) created in
 * `<target>__coffer_stage_<id>` from its definition; each such physical
 * table's tablespace discarded, its `.ibd` and `.cfg` written from the repository into the
 * staging database's directory (owned like that directory, i.e. by the server's user) and
 * imported; each AUTO_INCREMENT set to the captured definition's; the logical tables loaded.
 * The target is not touched. On failure or abort the staging database is dropped. The
 * caller holds the target's restore lock.
 */
export async function stageDatabase(
  tree: TreeReader,
  sel: SelectedDatabase,
  plan: MysqlRestorePlan,
  sessions: readonly MysqlSession[],
  facts: ServerFacts,
  id: string,
  ctx: DriverContext,
  onPhase: (phase: RestorePhase, db: string) => void,
): Promise<StagedDatabase> {
  const { logical, creates, dir, target } = sel
  const name = logical.name
  const reloaded = <T extends { readonly name: string }>(ts: readonly T[]): T[] =>
    ts.filter((t) => plan.reload.includes(t.name))
  const physical = { tables: reloaded(sel.physical.tables) }
  const logicalTables = reloaded(logical.tables)
  const main = sessions[0]!
  const { stage, trash } = sideDatabases(target, id)
  try {
    onPhase('stage', name)
    ctx.signal.throwIfAborted()
    await main.query(
      `CREATE DATABASE ${quoteIdent(stage)} CHARACTER SET ${quoteString(logical.characterSet)} COLLATE ${quoteString(logical.collation)}`,
    )
    // The switch creates every view, routine, trigger and event after its RENAME: make sure
    // none will fail for want of a privilege before anything is written.
    await rehearseObjects(
      main,
      stage,
      logical,
      { wholeDatabase: true, triggerTables: new Set() },
      `the server of ${target}`,
    )
    await main.query(`USE ${quoteIdent(stage)}`)
    const files = new Map<string, string>()
    for (const t of [...physical.tables, ...logicalTables]) {
      await main.query(renameDatabase(creates.get(t.name) ?? '', name, stage))
      if ('sequenceNext' in t && t.kind === 'sequence' && t.sequenceNext)
        await main.query(`SELECT SETVAL(${qualified(stage, t.name)}, ${BigInt(t.sequenceNext)}, 0)`)
    }
    for (const t of physical.tables) {
      files.set(t.name, await tablespacePath(main, facts.datadir, stage, t.name))
      await main.query(`ALTER TABLE ${qualified(stage, t.name)} DISCARD TABLESPACE`)
    }
    ctx.signal.throwIfAborted()

    onPhase('load', name)
    ctx.signal.throwIfAborted()
    const owner = await stat(join(facts.datadir, stage))
    const pool = new SessionPool(sessions)
    let bytes = 0
    const progress = (n: number): void => {
      bytes += n
      ctx.progress({ bytesDone: bytes, itemsDone: 0, phase: 'load' })
    }
    await forEachLimit(
      physical.tables,
      sessions.length,
      async (t, signal) => {
        const ibd = files.get(t.name)!
        const cfg = ibd.replace(/\.ibd$/, '.cfg')
        await writeTablespaceFile(
          tree,
          `${dir}/physical/${t.file}.ibd`,
          ibd,
          owner,
          signal,
          progress,
        )
        await writeTablespaceFile(
          tree,
          `${dir}/physical/${t.file}.cfg`,
          cfg,
          owner,
          signal,
          progress,
        )
        await pool.use((s) => s.query(`ALTER TABLE ${qualified(stage, t.name)} IMPORT TABLESPACE`))
        // The server no longer reads the .cfg; left behind it would keep DROP DATABASE of
        // the staging database from removing the directory.
        await rm(cfg, { force: true })
      },
      ctx.signal,
    )
    // IMPORT sets the counter from the tablespace (the last value used plus one), not from
    // the definition the server showed at capture, which may be higher (values reserved by a
    // multi-row insert): the definition's is what the snapshot holds. Set after every import,
    // one at a time: while a table linked by a foreign key is still being imported, ALTER
    // TABLE on the other waits for its lock.
    for (const t of physical.tables) {
      const next = autoIncrementOf(creates.get(t.name) ?? '')
      if (next !== undefined)
        await main.query(`ALTER TABLE ${qualified(stage, t.name)} AUTO_INCREMENT = ${next}`)
    }
    const parts = logicalTables
      .filter((t) => t.kind === 'table')
      .flatMap((t) => t.parts.map((p) => ({ t, p })))
    await forEachLimit(
      parts,
      sessions.length,
      async ({ t, p }, signal) => {
        const loaded = await pool.use((s) =>
          s.load(
            loadDataSql(stage, t.name, t.columns),
            counted(tree.readFile(`${dir}/${p.file}`, { signal }), progress),
          ),
        )
        if (loaded !== p.rows)
          throw new CofferError(
            'restore_failed',
            `Loading ${name}.${t.name} (${p.file}) gave ${loaded} rows where the snapshot has ${p.rows}.`,
          )
      },
      ctx.signal,
    )
    ctx.signal.throwIfAborted()
    return { selected: sel, plan, stage, trash, bytes }
  } catch (e) {
    // The target is untouched: only the staging database goes.
    await dropSideDatabases(main, target, facts.datadir, ctx.log, [stage]).catch(() => undefined)
    throw e
  }
}

/**
 * Where the server keeps the tablespace of `db`.`table`, read from the server before the
 * tablespace is discarded (information_schema.INNODB_SYS_TABLESPACES gives it relative to
 * the data directory, `./db/table.ibd`).
 */
async function tablespacePath(
  s: MysqlSession,
  datadir: string,
  db: string,
  table: string,
): Promise<string> {
  const r = await s.query(
    'SELECT FILENAME FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = ?',
    [`${db}/${table}`],
  )
  const file = cellText(r[0]?.[0])
  if (!file.endsWith('.ibd'))
    throw new CofferError(
      'restore_failed',
      `The server keeps no file-per-table tablespace for ${db}.${table} (innodb_file_per_table is off?).`,
    )
  return isAbsolute(file) ? file : join(datadir, file)
}

async function writeTablespaceFile(
  tree: TreeReader,
  from: string,
  to: string,
  owner: { uid: number; gid: number },
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<void> {
  await pipeline(
    Readable.from(counted(tree.readFile(from, { signal }), onBytes)),
    createWriteStream(to, { flags: 'wx', mode: 0o660 }),
    { signal },
  )
  // The server opens the file as its own user: give it the owner of the database directory.
  await chown(to, owner.uid, owner.gid)
}

/** The `AUTO_INCREMENT=` table option of a SHOW CREATE TABLE text (after the column list). */
function autoIncrementOf(createSql: string): bigint | undefined {
  const options = createSql.slice(createSql.lastIndexOf(')'))
  const m = / AUTO_INCREMENT=(\d+)/.exec(options)
  return m ? BigInt(m[1]!) : undefined
}
