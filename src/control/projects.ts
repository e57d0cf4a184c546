import { randomBytes } from 'node:crypto'
import { CofferError, NotFoundError } from '../errors.js'
import { isUniqueViolation, type Plan, type ProjectRow } from '../store/index.js'
import { atLeast, projectFor, type Access } from './access.js'
import { requireOperator, type Actor } from './actor.js'
import { recordAudit } from './audit.js'
import { syncAutomaticSchedules } from './automatic-schedules.js'
import type { ControlContext } from './context.js'
import type { RepositoryTarget } from './ports.js'
import {
  checkRepositoryLocation,
  defaultRepositoryLocation,
  type RepositoryS3Settings,
} from './repository-settings.js'

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

/** Purpose bound to a project's sealed repository settings. */
function repoOptionsPurpose(projectId: string): string {
  return `project:${projectId}:repository-options`
}

/** A project's repository as the opener needs it: location, password and settings, unsealed. */
export function projectRepository(project: ProjectRow, ctx: ControlContext): RepositoryTarget {
  const password = ctx.secrets.open(project.repo_secret, repoSecretPurpose(project.id))
  if (!project.repo_options) return { location: project.repo_location, password }
  const s3 = JSON.parse(
    ctx.secrets.open(project.repo_options, repoOptionsPurpose(project.id)),
  ) as RepositoryS3Settings
  return { location: project.repo_location, password, s3 }
}

/** Where a new project's repository goes, and with which settings. */
export interface RepositoryInput {
  /** A directory or `s3:https://host/bucket[/prefix]`; default `<server's base>/<project>`. */
  readonly location?: string
  readonly s3?: RepositoryS3Settings
}

/**
 * Creates a project (operators): its repository is initialised at the given location or at
 * `<reposBase>/<id>` with a random password; the password and the project's own repository
 * settings (S3 credentials) are sealed under the master key. Nothing is recorded if the
 * repository cannot be created.
 */
export async function createProject(
  actor: Actor,
  input: {
    readonly id: string
    readonly title?: string
    readonly plan: Plan
    readonly repository?: RepositoryInput
  },
  ctx: ControlContext,
): Promise<ProjectView> {
  requireOperator(actor, 'create projects')
  const exists = await ctx.store.db
    .selectFrom('projects')
    .select('id')
    .where('id', '=', input.id)
    .executeTakeFirst()
  if (exists) throw new CofferError('conflict', `The project ${input.id} already exists.`)
  const s3 = input.repository?.s3
  const location =
    input.repository?.location ?? defaultRepositoryLocation(ctx.config.reposBase, input.id)
  checkRepositoryLocation(location, s3)
  const password = randomBytes(32).toString('base64url')
  const repo = await ctx.initRepository({ location, password, ...(s3 ? { s3 } : {}) })
  await repo.close()
  const row: ProjectRow = {
    id: input.id,
    title: input.title ?? input.id,
    plan: input.plan,
    repo_location: location,
    repo_secret: ctx.secrets.seal(password, repoSecretPurpose(input.id)),
    repo_options: s3 ? ctx.secrets.seal(JSON.stringify(s3), repoOptionsPurpose(input.id)) : null,
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
  if (input.plan !== undefined) await syncAutomaticSchedules(ctx)
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
