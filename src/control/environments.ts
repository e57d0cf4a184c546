import { CofferError } from '../errors.js'
import type { DatabaseMode, DatabaseService, MaintenanceHooks, Mount } from '../snapshots/index.js'
import {
  BUSY_STATES,
  isUniqueViolation,
  isForeignKeyViolation,
  type EnvironmentRow,
  type EnvironmentStatus,
  type EnvironmentType,
  type ProjectRow,
} from '../store/index.js'
import { accessOf, environmentFor, projectFor, type Access } from './access.js'
import { requireOperator, type Actor } from './actor.js'
import { recordAudit } from './audit.js'
import { hasAutomaticBackups, syncAutomaticSchedules } from './automatic-schedules.js'
import type { ControlContext } from './context.js'
import {
  maskUrl,
  openSecretSpec,
  parseMounts,
  sealSecretSpec,
  validateParts,
} from './environment-spec.js'
import { decide, MESSAGES, stateRefusal } from './rules.js'

/** Whether the actor may press Backup, and if not, why (the console shows the reason). */
export interface Capability {
  readonly allowed: boolean
  readonly reason?: string
}

export interface EnvironmentView {
  readonly project: string
  readonly name: string
  readonly type: EnvironmentType
  readonly status: EnvironmentStatus
  readonly services: readonly { name: string; kind: 'mysql'; url: string; mode: DatabaseMode }[]
  readonly mounts: readonly Mount[]
  readonly gitDir: string | null
  readonly hooks: { readonly hold: boolean; readonly release: boolean }
  readonly label: string | null
  readonly createdAt: string
  /** The asking user's role on the environment. */
  readonly role: Access
  /** The activity pending or in progress on it, if any. */
  readonly activeActivity: string | null
  readonly automaticBackups: boolean
  readonly canCreateSnapshot: Capability
}

export interface EnvironmentInput {
  readonly name: string
  readonly type: EnvironmentType
  readonly status?: EnvironmentStatus
  readonly services?: readonly DatabaseService[]
  readonly mounts?: readonly Mount[]
  readonly gitDir?: string | null
  readonly hooks?: MaintenanceHooks | null
  readonly label?: string | null
}

export type EnvironmentPatch = Partial<Omit<EnvironmentInput, 'name'>>

async function busyActivity(
  project: string,
  name: string,
  ctx: ControlContext,
): Promise<string | null> {
  const row = await ctx.store.db
    .selectFrom('activities')
    .select('id')
    .where('project_id', '=', project)
    .where('environment', '=', name)
    .where('state', 'in', BUSY_STATES)
    .executeTakeFirst()
  return row?.id ?? null
}

function environmentView(
  project: ProjectRow,
  r: EnvironmentRow,
  role: Access,
  active: string | null,
  ctx: ControlContext,
  operator: boolean,
): EnvironmentView {
  const secret = openSecretSpec(r, ctx)
  const verdict = decide({
    action: 'create',
    plan: project.plan,
    environmentType: r.type,
    trigger: 'manual',
    requester: { kind: 'user', role, operator },
  })
  const state = stateRefusal({ action: 'create', environmentActive: r.status === 'active' })
  const canCreateSnapshot: Capability = !verdict.allowed
    ? { allowed: false, reason: verdict.message }
    : !state.allowed
      ? { allowed: false, reason: state.message }
      : active
        ? { allowed: false, reason: MESSAGES.busy }
        : { allowed: true }
  return {
    project: r.project_id,
    name: r.name,
    type: r.type,
    status: r.status,
    services: secret.services.map((s) => ({
      name: s.name,
      kind: s.kind,
      url: maskUrl(s.url),
      mode: s.mode ?? 'logical',
    })),
    mounts: parseMounts(r),
    gitDir: r.git_dir,
    hooks: { hold: Boolean(secret.hooks?.hold), release: Boolean(secret.hooks?.release) },
    label: r.label,
    createdAt: r.created_at,
    role,
    activeActivity: active,
    automaticBackups: hasAutomaticBackups(project.plan, r.type),
    canCreateSnapshot,
  }
}

/**
 * Registers an environment of a project (operators). An environment names host paths
 * (mounts, git directory), database credentials and hook commands that the server runs:
 * power over the host, so the platform's administrators grant it, not project admins.
 */
export async function createEnvironment(
  actor: Actor,
  projectId: string,
  input: EnvironmentInput,
  ctx: ControlContext,
): Promise<EnvironmentView> {
  const { project } = await projectFor(actor, projectId, 'viewer', ctx, 'add environments')
  requireOperator(actor, 'register environments')
  const services = input.services ?? []
  const mounts = input.mounts ?? []
  validateParts(services, mounts)
  const row: EnvironmentRow = {
    project_id: projectId,
    name: input.name,
    type: input.type,
    status: input.status ?? 'active',
    mounts: JSON.stringify(mounts),
    secret_spec: sealSecretSpec(
      projectId,
      input.name,
      { services, ...(input.hooks ? { hooks: input.hooks } : {}) },
      ctx,
    ),
    service_names: JSON.stringify(services.map((s) => s.name)),
    git_dir: input.gitDir ?? null,
    label: input.label ?? null,
    staging_dirty: 0,
    restore_decision: null,
    created_at: ctx.now().toISOString(),
  }
  try {
    await ctx.store.db.insertInto('environments').values(row).execute()
  } catch (e) {
    if (isUniqueViolation(e))
      throw new CofferError(
        'conflict',
        `The environment ${input.name} already exists in the project ${projectId}.`,
        { cause: e },
      )
    if (isForeignKeyViolation(e))
      throw new CofferError('not_found', `The project ${projectId} does not exist.`, { cause: e })
    throw e
  }
  await recordAudit(
    actor,
    {
      action: 'environment.create',
      project: projectId,
      environment: input.name,
      detail: { type: input.type, mounts: mounts.length, services: services.length },
    },
    ctx,
  )
  await syncAutomaticSchedules(ctx)
  return environmentView(project, row, 'admin', null, ctx, actor.operator)
}

/** The environments of a project the actor may see. */
export async function listEnvironments(
  actor: Actor,
  projectId: string,
  ctx: ControlContext,
): Promise<EnvironmentView[]> {
  const { project } = await projectFor(actor, projectId, 'viewer', ctx)
  const rows = await ctx.store.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('name')
    .execute()
  const busy = await ctx.store.db
    .selectFrom('activities')
    .select(['environment', 'id'])
    .where('project_id', '=', projectId)
    .where('state', 'in', BUSY_STATES)
    .execute()
  const out: EnvironmentView[] = []
  for (const r of rows) {
    const role = await accessOf(actor, projectId, r.name, ctx)
    if (role === 'none') continue
    const active = busy.find((b) => b.environment === r.name)?.id ?? null
    out.push(environmentView(project, r, role, active, ctx, actor.operator))
  }
  return out
}

export async function getEnvironment(
  actor: Actor,
  projectId: string,
  name: string,
  ctx: ControlContext,
): Promise<EnvironmentView> {
  const { project, environment, access } = await environmentFor(
    actor,
    projectId,
    name,
    'viewer',
    ctx,
  )
  const active = await busyActivity(projectId, name, ctx)
  return environmentView(project, environment, access, active, ctx, actor.operator)
}

/**
 * Changes an environment: its status (activate, deactivate) for its admins; the rest (type,
 * services, mounts, git directory, hooks, worker label) for operators only — the type
 * decides which rules apply (Pro production's backups are restored by operators), and the
 * others reach into the host (see `createEnvironment`). Services and hooks given replace
 * the stored ones.
 */
export async function updateEnvironment(
  actor: Actor,
  projectId: string,
  name: string,
  patch: EnvironmentPatch,
  ctx: ControlContext,
): Promise<EnvironmentView> {
  const { environment } = await environmentFor(
    actor,
    projectId,
    name,
    'admin',
    ctx,
    'change the environment',
  )
  if (Object.keys(patch).some((k) => k !== 'status'))
    requireOperator(actor, 'change the settings of an environment')
  const secret = openSecretSpec(environment, ctx)
  const services = patch.services ?? secret.services
  const mounts = patch.mounts ?? parseMounts(environment)
  const hooks = patch.hooks === null ? undefined : (patch.hooks ?? secret.hooks)
  if (patch.services || patch.mounts) validateParts(services, mounts)
  await ctx.store.db
    .updateTable('environments')
    .set({
      ...(patch.type ? { type: patch.type } : {}),
      ...(patch.status ? { status: patch.status } : {}),
      ...(patch.gitDir !== undefined ? { git_dir: patch.gitDir } : {}),
      ...(patch.label !== undefined ? { label: patch.label } : {}),
      mounts: JSON.stringify(mounts),
      service_names: JSON.stringify(services.map((s) => s.name)),
      secret_spec: sealSecretSpec(projectId, name, { services, ...(hooks ? { hooks } : {}) }, ctx),
    })
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .execute()
  await recordAudit(
    actor,
    {
      action: 'environment.update',
      project: projectId,
      environment: name,
      detail: {
        fields: Object.keys(patch),
        ...(patch.status ? { status: patch.status } : {}),
      },
    },
    ctx,
  )
  if (patch.type) await syncAutomaticSchedules(ctx)
  return getEnvironment(actor, projectId, name, ctx)
}

/** Forgets an environment (admins); its snapshots stay in the repository. */
export async function deleteEnvironment(
  actor: Actor,
  projectId: string,
  name: string,
  ctx: ControlContext,
): Promise<void> {
  await environmentFor(actor, projectId, name, 'admin', ctx, 'delete the environment')
  if (await busyActivity(projectId, name, ctx)) throw new CofferError('env_busy', MESSAGES.busy)
  await ctx.store.db
    .deleteFrom('environments')
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .execute()
  await recordAudit(
    actor,
    { action: 'environment.delete', project: projectId, environment: name },
    ctx,
  )
  await syncAutomaticSchedules(ctx)
}
