import { CofferError, NotFoundError } from '../errors.js'
import { ROLES, type EnvironmentRow, type ProjectRow, type Role } from '../store/index.js'
import type { Actor } from './actor.js'
import type { ControlContext } from './context.js'

/** A role, or no access at all. */
export type Access = Role | 'none'

/** Whether `have` is at least `need` (viewer < contributor < admin). */
export function atLeast(have: Access, need: Role): boolean {
  return have !== 'none' && ROLES.indexOf(have) >= ROLES.indexOf(need)
}

/**
 * The role of `actor` on a project, or on one of its environments: an environment grant
 * overrides the project grant for that environment (up or down), as the commerce PaaS's
 * environment-type roles do. Operators are admins everywhere.
 */
export async function accessOf(
  actor: Actor,
  projectId: string,
  environment: string | undefined,
  ctx: ControlContext,
): Promise<Access> {
  if (actor.operator) return 'admin'
  const grants = await ctx.store.db
    .selectFrom('grants')
    .select(['environment', 'role'])
    .where('user_id', '=', actor.userId)
    .where('project_id', '=', projectId)
    .execute()
  const env = environment ? grants.find((g) => g.environment === environment) : undefined
  if (env) return env.role
  const project = grants.find((g) => g.environment === '')
  if (project) return project.role
  // A user with a role on only some environments sees the project (to reach them).
  if (!environment && grants.length > 0) return 'viewer'
  return 'none'
}

/** Loads a project the actor may see, or refuses: 404 when it does not exist. */
export async function projectFor(
  actor: Actor,
  projectId: string,
  need: Role,
  ctx: ControlContext,
  what = 'see the project',
): Promise<{ project: ProjectRow; access: Access }> {
  const project = await ctx.store.db
    .selectFrom('projects')
    .selectAll()
    .where('id', '=', projectId)
    .executeTakeFirst()
  if (!project) throw new NotFoundError(`The project ${projectId} does not exist.`)
  const access = await accessOf(actor, projectId, undefined, ctx)
  if (!atLeast(access, need)) throw forbidden(access, need, what)
  return { project, access }
}

/** Loads an environment the actor may see with at least `need`, or refuses. */
export async function environmentFor(
  actor: Actor,
  projectId: string,
  name: string,
  need: Role,
  ctx: ControlContext,
  what = 'see the environment',
): Promise<{ project: ProjectRow; environment: EnvironmentRow; access: Access }> {
  const project = await ctx.store.db
    .selectFrom('projects')
    .selectAll()
    .where('id', '=', projectId)
    .executeTakeFirst()
  if (!project) throw new NotFoundError(`The project ${projectId} does not exist.`)
  const access = await accessOf(actor, projectId, name, ctx)
  // Someone without any access learns nothing about the environments of the project.
  if (access === 'none') throw forbidden(access, need, 'see the project')
  const environment = await ctx.store.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst()
  if (!environment)
    throw new NotFoundError(`The environment ${name} does not exist in the project ${projectId}.`)
  if (!atLeast(access, need)) throw forbidden(access, need, what)
  return { project, environment, access }
}

function forbidden(access: Access, need: Role, what: string): CofferError {
  if (access === 'none')
    return new CofferError('forbidden', `You do not have access to ${what.replace(/^see /, '')}.`)
  return new CofferError(
    need === 'admin' ? 'not_admin' : 'forbidden',
    `You must be ${need === 'admin' ? 'an administrator' : `a ${need}`} to ${what}.`,
  )
}
