import type { Kysely } from 'kysely'
import type { Database } from '../store/index.js'
import type { Actor } from './actor.js'
import type { ControlContext } from './context.js'

/** What the audit log records (issue 7: sign-ins, grants, every create/restore/delete). */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'user.create',
  'user.update',
  'user.delete',
  'token.create',
  'token.revoke',
  'project.create',
  'project.update',
  'project.delete',
  'grant.set',
  'grant.remove',
  'environment.create',
  'environment.update',
  'environment.delete',
  'backup.create',
  'backup.restore',
  'backup.delete',
  'activity.cancel',
  'schedule.create',
  'schedule.delete',
  'channel.create',
  'channel.delete',
  'settings.update',
  'repository.check',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export interface AuditEntry {
  readonly action: AuditAction
  readonly project?: string
  readonly environment?: string
  /** What was acted on: a user name, a snapshot or activity ID, a token ID. */
  readonly target?: string
  /** Extra facts; never a secret. */
  readonly detail?: Record<string, unknown>
}

/**
 * Appends to the audit log: who (`actor`, or a name for failed sign-ins), when (the
 * injected clock), from where, what. Pass `db` to record inside a transaction.
 */
export async function recordAudit(
  who: Actor | { readonly name: string | null; readonly address?: string },
  entry: AuditEntry,
  ctx: ControlContext,
  db: Kysely<Database> = ctx.store.db,
): Promise<void> {
  await db
    .insertInto('audit')
    .values({
      at: ctx.now().toISOString(),
      actor: who.name,
      address: who.address ?? null,
      action: entry.action,
      project_id: entry.project ?? null,
      environment: entry.environment ?? null,
      target: entry.target ?? null,
      detail: JSON.stringify(entry.detail ?? {}),
    })
    .execute()
}

export interface AuditView {
  readonly id: number
  readonly at: string
  readonly actor: string | null
  readonly address: string | null
  readonly action: string
  readonly project: string | null
  readonly environment: string | null
  readonly target: string | null
  readonly detail: Record<string, unknown>
}
