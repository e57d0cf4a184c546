import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { restoreFiles } from '../capture/index.js'
import { CofferError, InvalidInputError, NotFoundError } from '../errors.js'
import { RepoReader, treePath, type Repository, type StoredSnapshot } from '../repo/index.js'
import type { RestorePart, RestorePreview, RestoreResult } from './api-types.js'
import type { EnvironmentSpec, Mount } from './environment.js'
import { readManifest, snapshotInfo } from './list-snapshots.js'
import type { Manifest } from './manifest.js'
import { prepareStage, recoverMount, switchMount } from './mount-switch.js'
import type { OpContext } from './op-context.js'
import { parseTags } from './snapshot-tags.js'

/** Restore rate assumed before this host has measured any (bytes per second). */
const DEFAULT_RATE = 150 * 1024 * 1024

async function findEnvironmentSnapshot(
  reader: RepoReader,
  project: string,
  snapshotId: string,
  signal: AbortSignal,
): Promise<StoredSnapshot> {
  if (!/^[0-9a-f]{8,64}$/.test(snapshotId))
    throw new InvalidInputError('snapshot', `Invalid snapshot ID "${snapshotId.slice(0, 80)}".`)
  const snap = await reader.findSnapshot(snapshotId, {}, signal).catch((e: unknown) => {
    if (e instanceof NotFoundError)
      throw new NotFoundError(`The snapshot ${snapshotId} does not exist.`, { cause: e })
    throw e
  })
  if (snap.hostname !== project || !parseTags(snap.tags))
    throw new NotFoundError(`The snapshot ${snapshotId} does not exist.`)
  return snap
}

interface Plan {
  readonly mounts: readonly { mount: Mount; path?: string }[]
  readonly services: boolean
}

function planParts(
  manifest: Manifest,
  target: EnvironmentSpec,
  only: readonly RestorePart[],
): Plan {
  const all = only.length === 0
  const wantMounts = all || only.some((p) => p.kind === 'mounts')
  const mounts: { mount: Mount; path?: string }[] = []
  for (const m of target.mounts) {
    if (!manifest.mounts.some((x) => x.name === m.name)) continue
    const part = only.find((p) => p.kind === 'mount' && p.mount === m.name)
    if (wantMounts || part)
      mounts.push({ mount: m, ...(part?.kind === 'mount' && part.path ? { path: part.path } : {}) })
  }
  for (const p of only) {
    if (p.kind === 'mount' && !target.mounts.some((m) => m.name === p.mount)) {
      throw new InvalidInputError('only', `The environment has no mount ${p.mount}.`)
    }
  }
  const services =
    (all && manifest.services.length > 0) ||
    only.some((p) => p.kind === 'services' || p.kind === 'database' || p.kind === 'table')
  return { mounts, services }
}

/** What a restore would do, without changing anything. */
export async function previewRestore(
  repo: Repository,
  snapshotId: string,
  target: EnvironmentSpec,
  only: readonly RestorePart[],
  ctx: OpContext,
): Promise<RestorePreview> {
  const reader = await RepoReader.open(repo, ctx.signal)
  const snap = await findEnvironmentSnapshot(reader, target.project, snapshotId, ctx.signal)
  const manifest = await readManifest(reader, snap, ctx.signal)
  const plan = planParts(manifest, target, only)
  const mounts = plan.mounts.map(({ mount }) => {
    const m = manifest.mounts.find((x) => x.name === mount.name)!
    return {
      mount: mount.name,
      files: m.files,
      bytes: m.bytes,
      changedFiles: m.files,
      changedBytes: m.bytes,
    }
  })
  const databases = plan.services
    ? manifest.services.flatMap((s) =>
        s.databases.map((d) => ({
          service: s.name,
          database: d.name,
          tables: d.tables.length,
          bytes: d.bytes,
          changedTables: d.tables.length,
        })),
      )
    : []
  const bytesToRestore =
    mounts.reduce((n, m) => n + m.changedBytes, 0) + databases.reduce((n, d) => n + d.bytes, 0)
  return {
    snapshot: snapshotInfo(snap, manifest),
    ageMs: ctx.now().getTime() - Number(snap.time.unixNs / 1_000_000n),
    databases,
    mounts,
    bytesToRestore,
    estimatedMs: Math.round((bytesToRestore / DEFAULT_RATE) * 1000),
  }
}

/**
 * Restores an environment from a snapshot (issue 6): every part is staged first (mounts into
 * a directory beside each mount), and only when all are staged are they switched in, back
 * to back. A failure before the switch leaves the environment as it was; leftovers are
 * removed by `cleanupStaging` or the next restore.
 */
export async function restoreEnvironment(
  repo: Repository,
  snapshotId: string,
  target: EnvironmentSpec,
  only: readonly RestorePart[],
  ctx: OpContext,
): Promise<RestoreResult> {
  const lock = await repo.lock(false, { signal: ctx.signal, now: ctx.now })
  try {
    const reader = await RepoReader.open(repo, ctx.signal)
    const snap = await findEnvironmentSnapshot(reader, target.project, snapshotId, ctx.signal)
    const manifest = await readManifest(reader, snap, ctx.signal)
    const plan = planParts(manifest, target, only)
    if (plan.services) {
      throw new CofferError(
        'restore_failed',
        'Restoring database services is not available in this build yet; nothing was changed.',
      )
    }
    await checkSpace(plan, manifest)
    let filesWritten = 0
    for (const { mount, path } of plan.mounts) {
      ctx.logLine(`Staging mount ${mount.name}`)
      const stage = await prepareStage(mount.path)
      const subtree = await reader.subtreeAt(
        snap.tree,
        treePath(`mounts/${mount.name}`),
        ctx.signal,
      )
      if (!subtree)
        throw new CofferError('restore_failed', `The snapshot has no data for mount ${mount.name}.`)
      const stats = await restoreFiles(reader, subtree, stage, {
        ...(path ? { include: [treePath(path)] } : {}),
        signal: ctx.signal,
        log: ctx.log,
      })
      filesWritten += stats.files
    }
    ctx.signal.throwIfAborted()
    const started = performance.now()
    for (const { mount } of plan.mounts) await switchMount(mount.path)
    const switchMs = Math.round(performance.now() - started)
    ctx.logLine(`Switched in ${switchMs} ms`)
    return {
      snapshot: snapshotInfo(snap, manifest),
      switchMs,
      tablesReloaded: 0,
      tablesKept: 0,
      filesWritten,
      filesKept: 0,
    }
  } catch (e) {
    for (const m of target.mounts) await recoverMount(m.path).catch(() => undefined)
    throw e
  } finally {
    await lock.release()
  }
}

async function checkSpace(plan: Plan, manifest: Manifest): Promise<void> {
  for (const { mount } of plan.mounts) {
    const need = manifest.mounts.find((m) => m.name === mount.name)?.bytes ?? 0
    const fs = await statfs(dirname(mount.path))
    const free = Number(fs.bavail) * Number(fs.bsize)
    if (free < need) {
      throw new CofferError(
        'no_space',
        `Not enough disk space to stage mount ${mount.name}: ${need} bytes needed, ${free} free; nothing was changed.`,
      )
    }
  }
}

/** Removes what a restore killed before its switch left behind (or finishes its switch). */
export async function cleanupStaging(env: EnvironmentSpec, ctx: OpContext): Promise<void> {
  for (const m of env.mounts) {
    const outcome = await recoverMount(m.path)
    if (outcome !== 'none')
      ctx.logLine(
        `Mount ${m.name}: an interrupted restore was ${outcome === 'finished' ? 'completed' : 'rolled back'}`,
      )
  }
}
