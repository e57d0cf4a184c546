import { NotFoundError } from '../errors.js'
import type { Role } from '../store/index.js'
import { projectFor } from './access.js'
import type { Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'

export interface GrantView {
  readonly user: string
  /** null: the whole project; else the environment whose role this overrides. */
  readonly environment: string | null
  readonly role: Role
  readonly createdAt: string
}

/** Who has which role on a project (its viewers may look). */
export async function listGrants(
  actor: Actor,
  projectId: string,
  ctx: ControlContext,
): Promise<GrantView[]> {
  await projectFor(actor, projectId, 'viewer', ctx)
  const rows = await ctx.store.db
    .selectFrom('grants')
    .innerJoin('users', 'users.id', 'grants.user_id')
    .select(['users.name', 'grants.environment', 'grants.role', 'grants.created_at'])
    .where('grants.project_id', '=', projectId)
    .orderBy('users.name')
    .orderBy('grants.environment')
    .execute()
  return rows.map((r) => ({
    user: r.name,
    environment: r.environment === '' ? null : r.environment,
    role: r.role,
    createdAt: r.created_at,
  }))
}

async function userId(name: string, ctx: ControlContext): Promise<string> {
  const u = await ctx.store.db
    .selectFrom('users')
    .select('id')
    .where('name', '=', name)
    .executeTakeFirst()
  if (!u) throw new NotFoundError(`The user ${name} does not exist.`)
  return u.id
}

/**
 * Gives a user a role on a project, or on one environment (an override). Project admins
 * and operators may; setting a role again replaces it.
 */
export async function setGrant(
  actor: Actor,
  projectId: string,
  input: { readonly user: string; readonly role: Role; readonly environment?: string },
  ctx: ControlContext,
): Promise<GrantView> {
  await projectFor(actor, projectId, 'admin', ctx, 'manage the users of the project')
  if (input.environment) {
    const env = await ctx.store.db
      .selectFrom('environments')
      .select('name')
      .where('project_id', '=', projectId)
      .where('name', '=', input.environment)
      .executeTakeFirst()
    if (!env)
      throw new NotFoundError(
        `The environment ${input.environment} does not exist in the project ${projectId}.`,
      )
  }
  const uid = await userId(input.user, ctx)
  const createdAt = ctx.now().toISOString()
  const environment = input.environment ?? ''
  await ctx.store.db
    .insertInto('grants')
    .values({
      user_id: uid,
      project_id: projectId,
      environment,
      role: input.role,
      created_at: createdAt,
    })
    .onConflict((oc) =>
      oc.columns(['user_id', 'project_id', 'environment']).doUpdateSet({ role: input.role }),
    )
    .execute()
  await recordAudit(
    actor,
    {
      action: 'grant.set',
      project: projectId,
      ...(input.environment ? { environment: input.environment } : {}),
      target: input.user,
      detail: { role: input.role },
    },
    ctx,
  )
  return {
    user: input.user,
    environment: input.environment ?? null,
    role: input.role,
    createdAt,
  }
}

/** Removes a user's role on a project (all of it, or one environment's override). */
export async function removeGrant(
  actor: Actor,
  projectId: string,
  input: { readonly user: string; readonly environment?: string },
  ctx: ControlContext,
): Promise<void> {
  await projectFor(actor, projectId, 'admin', ctx, 'manage the users of the project')
  const uid = await userId(input.user, ctx)
  const r = await ctx.store.db
    .deleteFrom('grants')
    .where('user_id', '=', uid)
    .where('project_id', '=', projectId)
    .where('environment', '=', input.environment ?? '')
    .executeTakeFirst()
  if (Number(r.numDeletedRows) === 0)
    throw new NotFoundError(`The user ${input.user} has no such role on the project ${projectId}.`)
  await recordAudit(
    actor,
    {
      action: 'grant.remove',
      project: projectId,
      ...(input.environment ? { environment: input.environment } : {}),
      target: input.user,
    },
    ctx,
  )
}
