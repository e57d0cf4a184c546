import { snapshotTreeReader } from '../capture/index.js'
import { CofferError, messageOf } from '../errors.js'
import { COFFER_VERSION } from '../lib/index.js'
import {
  goTimeFromNs,
  RepoReader,
  shortId,
  SnapshotWriter,
  treePath,
  type Repository,
  type StoredSnapshot,
} from '../repo/index.js'
import type { CapturePart, MountPart, ServicePart } from './capture-part.js'
import type { EnvironmentSpec } from './environment.js'
import type { CreateSnapshotRequest, SnapshotInfo } from './api-types.js'
import { headCommit } from './git-commit.js'
import { runHook } from './hooks.js'
import { MANIFEST_FORMAT, MANIFEST_PATH, type Manifest } from './manifest.js'
import { assertMountsApart } from './mount-overlap.js'
import { mountPart } from './mount-part.js'
import type { OpContext } from './op-context.js'
import { servicePart } from './service-part.js'
import { parentSnapshots, snapshotInfo } from './list-snapshots.js'
import { snapshotPath, snapshotTags } from './snapshot-tags.js'

/** How long a hold may take to establish before the capture gives up (the site waits). */
export const HOLD_TIMEOUT_MS = 10_000

/**
 * Takes one snapshot of an environment (issue 6): databases and mounts captured into one
 * restic snapshot with `/coffer.json`. Consistent (default): every part prepares (pre-copy)
 * while the site runs, then all holds are taken (maintenance hook, database locks), each
 * part's final pass runs, all holds are released — only that is the pause, measured and
 * recorded — and the parts finish (database dumps from their snapshot transactions). Live:
 * no hold at all. The previous snapshot of the environment is the parent (incremental); the
 * databases' is the previous consistent one (see parentSnapshots).
 *
 * On any failure no snapshot is written, every hold is released, and the error says what
 * failed in one line; data already stored stays unreferenced until a prune.
 */
export async function createEnvironmentSnapshot(
  repo: Repository,
  env: EnvironmentSpec,
  req: CreateSnapshotRequest,
  ctx: OpContext,
): Promise<SnapshotInfo> {
  assertMountsApart(env.mounts)
  const parents = await parentSnapshots(repo, env.project, env.name, ctx.signal)
  const previous = parents.latest
  const reader = await RepoReader.open(repo, ctx.signal, {
    treeReadAhead: true,
    startWorkers: true,
  })
  const writer = await SnapshotWriter.start(repo, {
    signal: ctx.signal,
    log: ctx.log,
    now: ctx.now,
  })
  const parts: (MountPart | ServicePart)[] = []
  let held = false
  let hookHeld = false
  try {
    const commit = env.gitDir ? await headCommit(env.gitDir, ctx.signal) : undefined
    for (const m of env.mounts) {
      const parentTree = previous
        ? await reader.subtreeAt(previous.tree, treePath(`mounts/${m.name}`), ctx.signal)
        : undefined
      parts.push(
        mountPart(m, writer, previous ? { reader, tree: parentTree } : undefined, req.live, ctx),
      )
    }
    const parentTree = parents.consistent
      ? snapshotTreeReader(reader, parents.consistent.tree)
      : undefined
    for (const s of env.services)
      parts.push(await servicePart(s, writer, req.live, ctx, parentTree))

    ctx.logLine(`Capturing ${describe(env)}${req.live ? ' (live)' : ''}`)
    await allParts(parts, (p) => p.prepare())

    let pauseMs: number | undefined
    if (!req.live) {
      const started = performance.now()
      if (env.hooks?.hold) {
        await runHook('hold', env.hooks.hold, HOLD_TIMEOUT_MS, ctx.signal)
        hookHeld = true
      }
      held = true
      await withTimeout(
        forEachPart(parts, (p) => p.hold()),
        HOLD_TIMEOUT_MS,
        'The environment could not be held for a consistent snapshot in time (a long-running query may block the lock); nothing was changed.',
      )
      const holdTaken = performance.now()
      await allParts(parts, (p) => p.final())
      const finalDone = performance.now()
      await releaseAll(parts, env, hookHeld, ctx)
      held = false
      hookHeld = false
      const released = performance.now()
      pauseMs = Math.round(released - started)
      const ms = (a: number, b: number): number => Math.round(b - a)
      ctx.logLine(
        `Writes were held for ${pauseMs} ms (holding ${ms(started, holdTaken)} ms, final pass ${ms(holdTaken, finalDone)} ms, release ${ms(finalDone, released)} ms)`,
      )
    } else {
      await forEachPart(parts, (p) => p.final())
    }
    await forEachPart(parts, (p) => p.finish())

    const mounts = parts.filter((p): p is MountPart => p.kind === 'mount').map((p) => p.manifest())
    const services = parts
      .filter((p): p is ServicePart => p.kind === 'service')
      .map((p) => p.manifest())
    for (const m of mounts)
      for (const f of m.changedDuringCopy)
        ctx.logLine(`Changed while it was copied: ${m.name}/${f}`)
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      project: env.project,
      environment: env.name,
      type: env.type,
      mode: req.live ? 'live' : 'consistent',
      automated: req.automated,
      ...(req.createdBy ? { createdBy: req.createdBy } : {}),
      createdAt: ctx.now().toISOString(),
      ...(commit ? { commit } : {}),
      cofferVersion: COFFER_VERSION,
      ...(pauseMs !== undefined ? { pauseMs } : {}),
      services,
      mounts,
      totals: {
        bytes: services.reduce((n, s) => n + s.bytes, 0) + mounts.reduce((n, m) => n + m.bytes, 0),
        files: mounts.reduce((n, m) => n + m.files, 0),
      },
    }
    await writer.writeFile(
      MANIFEST_PATH,
      oneChunk(Buffer.from(JSON.stringify(manifest, null, 2) + '\n')),
      { mode: 0o644 },
    )
    const snap: StoredSnapshot = await writer.commit({
      paths: [snapshotPath(env.project, env.name)],
      hostname: env.project,
      tags: snapshotTags(env.name, req.automated, req.live),
      ...(previous ? { parent: previous.id } : {}),
      time: goTimeFromNs(BigInt(ctx.now().getTime()) * 1_000_000n),
      programVersion: `coffer ${COFFER_VERSION}`,
    })
    ctx.logLine(`Created snapshot ${shortId(snap.id)}`)
    return snapshotInfo(snap, manifest)
  } catch (e) {
    if (held)
      await releaseAll(parts, env, hookHeld, ctx).catch((r: unknown) =>
        ctx.log.error({ err: r }, 'release after failure failed'),
      )
    await Promise.allSettled(parts.map((p) => p.abort()))
    await writer.abort()
    if (ctx.signal.aborted) throw ctx.signal.reason
    if (e instanceof CofferError) throw e
    throw new CofferError('capture_failed', `The snapshot failed: ${messageOf(e)}`, { cause: e })
  }
}

function describe(env: EnvironmentSpec): string {
  const s = env.services.length
  const m = env.mounts.length
  return `${s} database service${s === 1 ? '' : 's'} and ${m} mount${m === 1 ? '' : 's'} of ${env.name}`
}

async function forEachPart(
  parts: readonly CapturePart[],
  step: (p: CapturePart) => Promise<void>,
): Promise<void> {
  for (const p of parts) await step(p).catch((e: unknown) => Promise.reject(partFailure(p, e)))
}

/**
 * Runs one step on all parts at once (the steps before and inside the hold: a database's
 * transactions open while the mounts' final pass runs, so the pause is the longest of them,
 * not their sum). Waits for every part, then fails with the first failure.
 */
async function allParts(
  parts: readonly CapturePart[],
  step: (p: CapturePart) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(parts.map((p) => step(p)))
  const i = results.findIndex((r) => r.status === 'rejected')
  if (i >= 0) throw partFailure(parts[i]!, (results[i] as PromiseRejectedResult).reason)
}

function partFailure(p: CapturePart, e: unknown): CofferError {
  if (e instanceof CofferError) return e
  return new CofferError('capture_failed', `Capturing ${p.label} failed: ${messageOf(e)}`, {
    cause: e,
  })
}

async function releaseAll(
  parts: readonly CapturePart[],
  env: EnvironmentSpec,
  hookHeld: boolean,
  ctx: OpContext,
): Promise<void> {
  const results = await Promise.allSettled(parts.map((p) => p.release()))
  if (hookHeld && env.hooks?.release) await runHook('release', env.hooks.release, HOLD_TIMEOUT_MS)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) ctx.log.error({ err: failed.reason as unknown }, 'a hold could not be released')
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CofferError('capture_failed', message)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

async function* oneChunk(b: Buffer): AsyncGenerator<Uint8Array> {
  yield b
}
