import { checkRepository } from '../repo/index.js'
import type { ProjectRow, RepositoryCheckRow } from '../store/index.js'
import { projectFor } from './access.js'
import type { Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'
import { newRowId } from './ids.js'
import { projectRepository } from './projects.js'
import { recordRepositorySize } from './repository-history.js'

/** A check of a project's repository, as recorded. */
export interface RepositoryCheckView {
  readonly checkedAt: string
  readonly durationMs: number
  /** Every pack read and verified, not the structure only. */
  readonly readData: boolean
  readonly errors: number
  readonly snapshots: number
  readonly packs: number
  readonly packsRead: number
  /** The first error messages (at most 20). */
  readonly findings: readonly string[]
  readonly checkedBy: string
}

/** What a project's repository holds and how it fared at its last check. */
export interface RepositoryHealthView extends RepositoryFigures {
  readonly project: string
  readonly location: string
  /** snapshotBytes / storedBytes; null while nothing is stored. */
  readonly deduplicationRatio: number | null
  readonly lastCheck: RepositoryCheckView | null
}

const MAX_FINDINGS = 20

function checkView(r: RepositoryCheckRow): RepositoryCheckView {
  return {
    checkedAt: r.checked_at,
    durationMs: r.duration_ms,
    readData: r.read_data === 1,
    errors: r.errors,
    snapshots: r.snapshots,
    packs: r.packs,
    packsRead: r.packs_read,
    findings: JSON.parse(r.findings) as string[],
    checkedBy: r.checked_by,
  }
}

/** What a project's repository holds now: the figures of its health and of its size history. */
export interface RepositoryFigures {
  /** Bytes of data packs in the repository (what the storage bills). */
  readonly storedBytes: number
  readonly packs: number
  /** Snapshots the catalog knows in the repository (not deleted, not expired). */
  readonly snapshots: number
  /** The sum of those snapshots' sizes: what they would take without deduplication. */
  readonly snapshotBytes: number
}

/**
 * Measures a project's repository: the stored size from a listing of its data packs (one
 * LIST of the storage, no pack is read), the logical size from the catalog. No lock is
 * taken: a backup running meanwhile may or may not be counted yet.
 */
export async function measureRepository(
  project: ProjectRow,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<RepositoryFigures> {
  const repo = await ctx.openRepository(projectRepository(project, ctx), signal)
  let storedBytes = 0
  let packs = 0
  try {
    for await (const f of repo.backend.list('data', signal ? { signal } : {})) {
      storedBytes += f.size
      packs++
    }
  } finally {
    await repo.close()
  }
  const totals = await ctx.store.db
    .selectFrom('snapshots')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('bytes')])
    .where('project_id', '=', project.id)
    .where('deleted_at', 'is', null)
    .where('expired_at', 'is', null)
    .executeTakeFirstOrThrow()
  return {
    storedBytes,
    packs,
    snapshots: Number(totals.n),
    snapshotBytes: Number(totals.bytes ?? 0),
  }
}

/**
 * The health of a project's repository (its admins): stored size from the repository's
 * listing of data packs, logical size from the catalog, and the last recorded check. The
 * figures are kept as a sample of the size history too (`recordRepositorySize`).
 */
export async function repositoryHealth(
  actor: Actor,
  projectId: string,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<RepositoryHealthView> {
  const { project } = await projectFor(actor, projectId, 'admin', ctx, 'see the repository')
  const figures = await measureRepository(project, ctx, signal)
  await recordRepositorySize(projectId, figures, ctx)
  const last = await ctx.store.db
    .selectFrom('repository_checks')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('checked_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  return {
    project: projectId,
    location: project.repo_location,
    ...figures,
    deduplicationRatio:
      figures.storedBytes > 0 ? figures.snapshotBytes / figures.storedBytes : null,
    lastCheck: last ? checkView(last) : null,
  }
}

/**
 * Checks a project's repository now (its admins) — the structure, or with `readData` every
 * pack's content — and records the result. It takes a shared lock: snapshots and restores
 * go on meanwhile; a prune waits.
 */
export async function checkProjectRepository(
  actor: Actor,
  projectId: string,
  opts: { readonly readData?: boolean },
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<RepositoryCheckView> {
  const { project } = await projectFor(actor, projectId, 'admin', ctx, 'check the repository')
  const started = ctx.now()
  const t0 = performance.now()
  const repo = await ctx.openRepository(projectRepository(project, ctx), signal)
  let row: RepositoryCheckRow
  try {
    const lock = await repo.lock(false, { ...(signal ? { signal } : {}), now: ctx.now })
    try {
      const r = await checkRepository(repo, {
        ...(opts.readData ? { readData: true } : {}),
        ...(signal ? { signal } : {}),
      })
      row = {
        id: newRowId(),
        project_id: projectId,
        checked_at: started.toISOString(),
        duration_ms: Math.round(performance.now() - t0),
        read_data: opts.readData ? 1 : 0,
        errors: r.errors,
        snapshots: r.snapshots,
        packs: r.packs,
        packs_read: r.packsRead,
        findings: JSON.stringify(
          r.findings
            .filter((f) => f.severity === 'error')
            .slice(0, MAX_FINDINGS)
            .map((f) => (f.file ? `${f.file}: ${f.message}` : f.message)),
        ),
        checked_by: actor.name,
      }
    } finally {
      await lock.release()
    }
  } finally {
    await repo.close()
  }
  await ctx.store.db.insertInto('repository_checks').values(row).execute()
  await recordAudit(
    actor,
    {
      action: 'repository.check',
      project: projectId,
      detail: { readData: Boolean(opts.readData), errors: row.errors },
    },
    ctx,
  )
  ctx.log.info(
    { project: projectId, errors: row.errors, readData: row.read_data === 1 },
    'repository checked',
  )
  return checkView(row)
}
