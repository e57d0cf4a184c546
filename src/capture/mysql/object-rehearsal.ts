import { randomBytes } from 'node:crypto'
import { RefusedError } from '../../errors.js'
import type { DatabaseEntry } from './database-entry.js'
import { qualified } from './names.js'
import { serverMessage, type MysqlSession } from './session.js'

/** An object kind the switch creates after its RENAME, with the definer it is created as. */
interface Probe {
  readonly kind: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT'
  readonly definer: string
  /** The snapshot's first object of this kind and definer, for the message. */
  readonly example: string
}

const DEFINER =
  /\bDEFINER\s*=\s*((?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s]+))/i

/** The DEFINER clause of a SHOW CREATE text, or CURRENT_USER when it has none. */
export function definerOf(createSql: string): string {
  return DEFINER.exec(createSql)?.[1] ?? 'CURRENT_USER'
}

/**
 * Views, triggers, routines and events are created in the target after the switch's RENAME:
 * a privilege missing there (CREATE VIEW, TRIGGER, CREATE ROUTINE, EVENT, or SET USER/SUPER
 * for an object defined by another user) would leave the new tables without their triggers.
 * So before anything is loaded, one throwaway object of each kind and definer the switch
 * will need is created in the staging database and dropped again. A refusal there changes
 * nothing: the staging database goes, the target was never touched.
 */
export async function rehearseObjects(
  s: MysqlSession,
  stage: string,
  entry: DatabaseEntry,
  need: { readonly wholeDatabase: boolean; readonly triggerTables: ReadonlySet<string> },
  where: string,
): Promise<void> {
  const probes = new Map<string, Probe>()
  const add = (kind: Probe['kind'], createSql: string, name: string): void => {
    const definer = definerOf(createSql)
    const key = `${kind} ${definer}`
    if (!probes.has(key)) probes.set(key, { kind, definer, example: name })
  }
  if (need.wholeDatabase) {
    for (const v of entry.views) add('VIEW', v.createSql, v.name)
    for (const r of entry.routines)
      add(r.type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE', r.createSql, r.name)
    for (const e of entry.events) add('EVENT', e.createSql, e.name)
  }
  for (const t of entry.triggers)
    if (need.wholeDatabase || need.triggerTables.has(t.table ?? ''))
      add('TRIGGER', t.createSql, t.name)
  if (probes.size === 0) return
  // Names no snapshot object has (the staging database is the caller's alone anyway).
  const tag = `coffer_rehearsal_${randomBytes(4).toString('hex')}`
  const table = qualified(stage, tag)
  await s.query(`CREATE TABLE ${table} (i INT)`)
  try {
    for (const p of probes.values()) {
      const name = `${tag}_${p.kind.toLowerCase()}`
      const at = qualified(stage, name)
      try {
        await s.query(probeSql(p, at, table))
        await s.query(`DROP ${p.kind} IF EXISTS ${at}`)
      } catch (e) {
        throw new RefusedError(
          'refused',
          `The restore could not create the ${p.kind.toLowerCase()} ${entry.name}.${p.example} (definer ${p.definer}) on ${where}: ${serverMessage(e)}. Nothing was changed: grant the missing privilege, or restore as a user who has it.`,
          { cause: e },
        )
      }
    }
  } finally {
    await s.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined)
  }
}

function probeSql(p: Probe, at: string, table: string): string {
  const definer = `DEFINER = ${p.definer}`
  switch (p.kind) {
    case 'VIEW':
      return `CREATE ${definer} VIEW ${at} AS SELECT 1 AS one`
    case 'TRIGGER':
      return `CREATE ${definer} TRIGGER ${at} BEFORE INSERT ON ${table} FOR EACH ROW SET @coffer_rehearsal = 1`
    case 'PROCEDURE':
      return `CREATE ${definer} PROCEDURE ${at}() BEGIN END`
    case 'FUNCTION':
      return `CREATE ${definer} FUNCTION ${at}() RETURNS INT DETERMINISTIC NO SQL RETURN 1`
    case 'EVENT':
      // Disabled and a year away: it never runs, even if the scheduler is on.
      return `CREATE ${definer} EVENT ${at} ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 YEAR DISABLE DO DO 0`
  }
}
