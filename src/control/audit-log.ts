import { requireOperator, type Actor } from './actor.js'
import { AUDIT_ACTIONS, type AuditView } from './audit.js'
import { projectFor } from './access.js'
import type { ControlContext } from './context.js'

export { AUDIT_ACTIONS }

/**
 * Reads the audit log, newest first: the whole log for operators, or one project's entries
 * for that project's admins. `before` pages by entry ID.
 */
export async function listAudit(
  actor: Actor,
  filter: { readonly project?: string; readonly before?: number; readonly limit: number },
  ctx: ControlContext,
): Promise<{ items: AuditView[]; nextCursor: string | null }> {
  if (filter.project) await projectFor(actor, filter.project, 'admin', ctx, 'read the audit log')
  else requireOperator(actor, 'read the audit log')
  let q = ctx.store.db.selectFrom('audit').selectAll()
  if (filter.project) q = q.where('project_id', '=', filter.project)
  if (filter.before !== undefined) q = q.where('id', '<', filter.before)
  const rows = await q
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute()
  const items = rows.slice(0, filter.limit).map((r): AuditView => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    address: r.address,
    action: r.action,
    project: r.project_id,
    environment: r.environment,
    target: r.target,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }))
  const last = rows.length > filter.limit ? items.at(-1) : undefined
  return { items, nextCursor: last ? String(last.id) : null }
}
