import type { DriverContext } from '../../ports.js'
import { planDatabase, type MysqlRestorePlan, type PlannedTable } from '../mysql-restore.js'
import type { MysqlSession } from '../session.js'
import type { SelectedDatabase } from './physical-selection.js'

/**
 * The delta plan of a physical snapshot's database (docs/PHYSICAL.md, "Delta"): the logical
 * restore's plan (planDatabase) over its physical and logical tables together, a physical
 * table compared by the content hash recorded at capture (`content` in tables.json). A
 * table whose live definition and content hash equal the snapshot's is kept, every other
 * one imported or loaded, grown to whole groups joined by foreign keys; the target's tables
 * the snapshot lacks are dropped. A snapshot recorded without content hashes (before they
 * were, or live) gets no delta: every table is reloaded. Reads only.
 */
export async function planPhysicalDatabase(
  s: MysqlSession | readonly MysqlSession[],
  { logical, physical, creates, target }: SelectedDatabase,
  ctx: DriverContext,
): Promise<MysqlRestorePlan> {
  const tables: PlannedTable[] = [
    ...logical.tables,
    ...physical.tables.map((t) => ({
      name: t.name,
      kind: 'table' as const,
      ...(t.content?.splitColumn !== undefined ? { splitColumn: t.content.splitColumn } : {}),
      sha256: t.content?.sha256 ?? '',
      parts: t.content?.ranges ?? [],
      ...(t.unchangedSince ? { unchangedSince: t.unchangedSince } : {}),
    })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const full = physical.tables.some((t) => t.content === undefined)
  return planDatabase(s, { entry: { name: logical.name, tables }, tables, creates }, target, ctx, {
    full,
  })
}
