import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CofferError, NotFoundError } from '../errors.js'
import { isUniqueViolation, type Plan, type ProjectRow } from '../store/index.js'
import { atLeast, projectFor, type Access } from './access.js'
import { requireOperator, type Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'

export interface ProjectView {
  readonly id: string
  readonly title: string
  readonly plan: Plan
  /** Where the repository lives (never its password). */
  readonly repository: string
  readonly createdAt: string
  /** The asking user's role on the project. */
  readonly role: Access
}

function projectView(r: ProjectRow, role: Access): ProjectView {
  return {
    id: r.id,
    title: r.title,
    plan: r.plan,
    repository: r.repo_location,
    createdAt: r.created_at,
    role,
  }
}

/** Purpose bound to a project's sealed repository password. */
export function repoSecretPurpose(projectId: string): string {
  return `project:${projectId}:repository`
}

/** The repository password of a project, unsealed. */
export function repositoryPassword(project: ProjectRow, ctx: ControlContext): string {
  return ctx.secrets.open(project.repo_secret, repoSecretPurpose(project.id))
}

/**
 * Creates a project (operators): its repository is initialised at `<reposDir>/<id>` with a
 * random password, sealed under the master key. Nothing is recorded if the repository
 * cannot be created.
 */
export async function createProject(
  actor: Actor,
  input: { readonly id: string; readonly title?: string; readonly plan: Plan },
  ctx: ControlContext,
): Promise<ProjectView> {
  requireOperator(actor, 'create projects')
  const exists = await ctx.store.db
    .selectFrom('projects')
    .select('id')
    .where('id', '=', input.id)
    .executeTakeFirst()
  if (exists) throw new CofferError('conflict', `The project ${input.id} already exists.`)
  const location = join(ctx.config.reposDir, input.id)
  const password = randomBytes(32).toString('base64url')
  const repo = await ctx.initRepository(location, password)
  await repo.close()
  const row: ProjectRow = {
    id: input.id,
    title: input.title ?? input.id,
    plan: input.plan,
    repo_location: location,
    repo_secret: ctx.secrets.seal(password, repoSecretPurpose(input.id)),
    created_at: ctx.now().toISOString(),
  }
  try {
    await ctx.store.db.insertInto('projects').values(row).execute()
  } catch (e) {
    if (isUniqueViolation(e))
      throw new CofferError('conflict', `The project ${input.id} already exists.`, { cause: e })
    throw e
  }
  await recordAudit(
    actor,
    { action: 'project.create', project: input.id, detail: { plan: input.plan } },
    ctx,
  )
  ctx.log.info({ project: input.id, plan: input.plan }, 'project created')
  return projectView(row, 'admin')
}

/** Projects the actor has a role on (operators: all). */
export async function listProjects(actor: Actor, ctx: ControlContext): Promise<ProjectView[]> {
  const rows = await ctx.store.db.selectFrom('projects').selectAll().orderBy('id').execute()
  if (actor.operator) return rows.map((r) => projectView(r, 'admin'))
  const grants = await ctx.store.db
    .selectFrom('grants')
    .select(['project_id', 'environment', 'role'])
    .where('user_id', '=', actor.userId)
    .execute()
  const out: ProjectView[] = []
  for (const r of rows) {
    const mine = grants.filter((g) => g.project_id === r.id)
    if (mine.length === 0) continue
    out.push(projectView(r, mine.find((g) => g.environment === '')?.role ?? 'viewer'))
  }
  return out
}

export async function getProject(
  actor: Actor,
  id: string,
  ctx: ControlContext,
): Promise<ProjectView> {
  const { project, access } = await projectFor(actor, id, 'viewer', ctx)
  return projectView(project, access)
}

/**
 * Changes a project's title (its admins) or plan (operators: the plan decides which
 * environments are backed up automatically).
 */
export async function updateProject(
  actor: Actor,
  id: string,
  input: { readonly title?: string; readonly plan?: Plan },
  ctx: ControlContext,
): Promise<ProjectView> {
  const { access } = await projectFor(actor, id, 'admin', ctx, 'change the project')
  if (input.plan !== undefined) requireOperator(actor, 'change the plan of a project')
  await ctx.store.db
    .updateTable('projects')
    .set({
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.plan !== undefined ? { plan: input.plan } : {}),
    })
    .where('id', '=', id)
    .execute()
  await recordAudit(actor, { action: 'project.update', project: id, detail: { ...input } }, ctx)
  const { project } = await projectFor(actor, id, 'viewer', ctx)
  return projectView(project, atLeast(access, 'admin') ? 'admin' : access)
}

/**
 * Deletes a project's records (operators). Its repository is left where it is: deleting
 * backups is never a side effect.
 */
export async function deleteProject(actor: Actor, id: string, ctx: ControlContext): Promise<void> {
  requireOperator(actor, 'delete projects')
  const busy = await ctx.store.db
    .selectFrom('activities')
    .select('id')
    .where('project_id', '=', id)
    .where('state', 'in', ['pending', 'in_progress'])
    .executeTakeFirst()
  if (busy)
    throw new CofferError(
      'env_busy',
      'An activity is currently pending or in progress on the environment.',
    )
  const r = await ctx.store.db.deleteFrom('projects').where('id', '=', id).executeTakeFirst()
  if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`The project ${id} does not exist.`)
  await recordAudit(actor, { action: 'project.delete', project: id }, ctx)
}
