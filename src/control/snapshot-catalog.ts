import type { Kysely } from 'kysely'
import { NotFoundError } from '../errors.js'
import { expiresAt, isRestorable, type SnapshotInfo } from '../snapshots/index.js'
import type { Database, ProjectRow, SnapshotRow } from '../store/index.js'
import { environmentFor } from './access.js'
import type { Actor } from './actor.js'
import type { ControlContext } from './context.js'
import { decodeCursor, encodeCursor, type Page, type PageRequest } from './paging.js'
import { projectRepository } from './projects.js'

/**
 * The catalog of snapshots: what the control plane knows of each project's repository, so
 * that lists, the restore window and the expiry need no repository reads. It is written
 * when an activity creates or deletes snapshots and reconciled with the repository by
 * `syncCatalog`; the repository stays the truth.
 */
export const SNAPSHOT_STATUSES = ['available', 'expired'] as const
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number]

export interface BackupView {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly createdAt: string
  readonly restorable: boolean
  /** When a manual snapshot stops being restorable; null for automatic ones. */
  readonly expiresAt: string | null
  readonly automated: boolean
  readonly live: boolean
  readonly size: number
  readonly commit: string | null
  readonly createdBy: string | null
  readonly pauseMs: number | null
  readonly status: SnapshotStatus
}

export function backupView(r: SnapshotRow, now: Date, windowMs: number): BackupView {
  const s = { createdAt: new Date(r.created_at), automated: r.automated === 1 }
  const expires = expiresAt(s, windowMs)
  return {
    id: r.id,
    project: r.project_id,
    environment: r.environment,
    createdAt: r.created_at,
    restorable: r.expired_at === null && isRestorable(s, now, windowMs),
    expiresAt: expires?.toISOString() ?? null,
    automated: r.automated === 1,
    live: r.live === 1,
    size: r.size,
    commit: r.commit_sha,
    createdBy: r.created_by,
    pauseMs: r.pause_ms,
    status: r.expired_at === null ? 'available' : 'expired',
  }
}

/** Records a snapshot an activity created (or that the repository holds). */
export async function recordSnapshot(
  projectId: string,
  info: SnapshotInfo,
  scheduleId: string | null,
  db: Kysely<Database>,
): Promise<void> {
  await db
    .insertInto('snapshots')
    .values({
      project_id: projectId,
      id: info.id,
      full_id: info.fullId,
      environment: info.environment,
      created_at: info.createdAt.toISOString(),
      live: info.live ? 1 : 0,
      automated: info.automated ? 1 : 0,
      size: info.size,
      commit_sha: info.commit ?? null,
      created_by: info.createdBy ?? null,
      pause_ms: info.pauseMs ?? null,
      schedule_id: scheduleId,
      deleted_at: null,
      expired_at: null,
    })
    .onConflict((oc) => oc.columns(['project_id', 'id']).doNothing())
    .execute()
}

/** Finds a snapshot of an environment by its short ID (or a longer prefix of its full ID). */
export async function findSnapshot(
  projectId: string,
  environment: string,
  id: string,
  ctx: ControlContext,
): Promise<SnapshotRow> {
  const short = id.slice(0, 8)
  const row = /^[0-9a-f]{8,64}$/.test(id)
    ? await ctx.store.db
        .selectFrom('snapshots')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', short)
        .where('deleted_at', 'is', null)
        .executeTakeFirst()
    : undefined
  if (!row || row.environment !== environment || !row.full_id.startsWith(id))
    throw new NotFoundError(`The snapshot ${id} does not exist.`)
  return row
}

/** An environment's snapshots, newest first (deleted ones hidden, expired ones shown). */
export async function listBackups(
  actor: Actor,
  projectId: string,
  environment: string,
  page: PageRequest & { readonly automated?: boolean },
  ctx: ControlContext,
): Promise<Page<BackupView>> {
  await environmentFor(actor, projectId, environment, 'viewer', ctx)
  let q = ctx.store.db
    .selectFrom('snapshots')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('environment', '=', environment)
    .where('deleted_at', 'is', null)
  if (page.automated !== undefined) q = q.where('automated', '=', page.automated ? 1 : 0)
  const after = decodeCursor(page.cursor)
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', after.at),
        eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)]),
      ]),
    )
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  const now = ctx.now()
  const items = rows.slice(0, page.limit).map((r) => backupView(r, now, ctx.config.restoreWindowMs))
  const last = rows.length > page.limit ? rows[page.limit - 1] : undefined
  return { items, nextCursor: last ? encodeCursor(last.created_at, last.id) : null }
}

export async function getBackup(
  actor: Actor,
  projectId: string,
  environment: string,
  id: string,
  ctx: ControlContext,
): Promise<BackupView> {
  await environmentFor(actor, projectId, environment, 'viewer', ctx)
  const row = await findSnapshot(projectId, environment, id, ctx)
  return backupView(row, ctx.now(), ctx.config.restoreWindowMs)
}

/**
 * Reconciles the catalog with a project's repository: snapshots found there and missing
 * here are added; rows whose snapshot is gone are marked deleted (expired ones stay as
 * they are: their data was removed on purpose). Returns the counts.
 */
export async function syncCatalog(
  project: ProjectRow,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<{ added: number; removed: number }> {
  const repo = await ctx.openRepository(projectRepository(project, ctx), signal)
  try {
    const envs = await ctx.store.db
      .selectFrom('snapshots')
      .select('environment')
      .distinct()
      .where('project_id', '=', project.id)
      .union(
        ctx.store.db
          .selectFrom('environments')
          .select('name as environment')
          .where('project_id', '=', project.id),
      )
      .execute()
    const known = await ctx.store.db
      .selectFrom('snapshots')
      .select(['id', 'deleted_at', 'expired_at'])
      .where('project_id', '=', project.id)
      .execute()
    const knownIds = new Map(known.map((k) => [k.id, k]))
    const inRepo = new Set<string>()
    let added = 0
    for (const { environment } of envs) {
      const infos = await ctx.snapshots.listEnvironmentSnapshots(
        repo,
        project.id,
        environment,
        signal,
      )
      for (const info of infos) {
        inRepo.add(info.id)
        if (!knownIds.has(info.id)) {
          await recordSnapshot(project.id, info, null, ctx.store.db)
          added++
        }
      }
    }
    let removed = 0
    const at = ctx.now().toISOString()
    for (const k of known) {
      if (inRepo.has(k.id) || k.deleted_at || k.expired_at) continue
      await ctx.store.db
        .updateTable('snapshots')
        .set({ deleted_at: at })
        .where('project_id', '=', project.id)
        .where('id', '=', k.id)
        .execute()
      removed++
    }
    return { added, removed }
  } finally {
    await repo.close()
  }
}
