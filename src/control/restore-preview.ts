import type { RestorePart, RestorePreview } from '../snapshots/index.js'
import { CofferError } from '../errors.js'
import { atLeast, environmentFor } from './access.js'
import type { Actor } from './actor.js'
import type { ControlContext } from './context.js'
import { environmentSpec } from './environment-spec.js'
import { projectRepository } from './projects.js'
import { decide, stateRefusal } from './rules.js'
import { backupView, findSnapshot, type BackupView } from './snapshot-catalog.js'

export interface RestorePreviewView {
  readonly backup: BackupView
  readonly target: string
  readonly preview: RestorePreview
}

/**
 * What a restore would do (PRODUCT.md: "Before confirming, the user sees what will be
 * restored … and an estimate of how long it takes"), without changing anything. The same
 * rules as the restore itself apply, so a preview never shows what may not be restored.
 */
export async function previewRestore(
  actor: Actor,
  projectId: string,
  environment: string,
  snapshotId: string,
  input: { readonly target?: string; readonly only?: readonly RestorePart[] },
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<RestorePreviewView> {
  const src = await environmentFor(actor, projectId, environment, 'viewer', ctx)
  const tgt =
    input.target && input.target !== environment
      ? await environmentFor(actor, projectId, input.target, 'viewer', ctx)
      : src
  const snap = await findSnapshot(projectId, environment, snapshotId, ctx)
  const role =
    atLeast(src.access, 'admin') && atLeast(tgt.access, 'admin')
      ? 'admin'
      : src.access === 'none'
        ? 'none'
        : 'viewer'
  const verdict = decide({
    action: 'restore',
    plan: src.project.plan,
    environmentType: src.environment.type,
    trigger: snap.automated ? 'automatic' : 'manual',
    requester: { kind: 'user', role, operator: actor.operator },
  })
  if (!verdict.allowed) throw new CofferError(verdict.code, verdict.message)
  const view = backupView(snap, ctx.now(), ctx.config.restoreWindowMs)
  const state = stateRefusal({
    action: 'restore',
    environmentActive: tgt.environment.status === 'active',
    snapshot: { id: snap.id, restorable: view.restorable },
  })
  if (!state.allowed) throw new CofferError(state.code, state.message)
  const repo = await ctx.openRepository(projectRepository(src.project, ctx), signal)
  try {
    const preview = await ctx.snapshots.previewRestore(
      repo,
      snap.full_id,
      environmentSpec(tgt.environment, ctx),
      input.only ?? [],
      {
        signal: signal ?? new AbortController().signal,
        log: ctx.log,
        now: ctx.now,
        progress: () => {},
        logLine: () => {},
      },
    )
    return { backup: view, target: tgt.environment.name, preview }
  } finally {
    await repo.close()
  }
}
