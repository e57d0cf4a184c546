import {
  commitStagedRestore,
  parseMysqlUrl,
  previewMountRestore,
  recoverMysqlRestores,
  recoverStagedRestore,
  stageRestore,
  withMountLock,
  type StagedRestore,
} from '../capture/index.js'
import { CofferError, InvalidInputError, NotFoundError } from '../errors.js'
import {
  RepoReader,
  treePath,
  type Repository,
  type StoredSnapshot,
  type TreeId,
} from '../repo/index.js'
import type {
  RestoreCommitPoint,
  RestoreCommitRecord,
  RestorePart,
  RestorePreview,
  RestoreResult,
} from './api-types.js'
import type { EnvironmentSpec, Mount } from './environment.js'
import { readManifest, snapshotInfo } from './list-snapshots.js'
import type { Manifest } from './manifest.js'
import { HOLD_TIMEOUT_MS } from './create-snapshot.js'
import { runHook } from './hooks.js'
import { assertMountsApart } from './mount-overlap.js'
import type { OpContext } from './op-context.js'
import {
  planServiceRestores,
  previewService,
  restoreService,
  type ServiceRestoreJob,
} from './service-restore.js'
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
  assertMountsApart(target.mounts)
  const reader = await RepoReader.open(repo, ctx.signal, { treeReadAhead: true })
  const snap = await findEnvironmentSnapshot(reader, target.project, snapshotId, ctx.signal)
  const manifest = await readManifest(reader, snap, ctx.signal)
  const plan = planParts(manifest, target, only)
  const mounts: RestorePreview['mounts'][number][] = []
  for (const { mount, path } of plan.mounts) {
    const m = manifest.mounts.find((x) => x.name === mount.name)!
    const subtree = await reader.subtreeAt(snap.tree, treePath(`mounts/${mount.name}`), ctx.signal)
    // What differs from the mount now: entries written, copied or removed by the restore.
    const t = subtree
      ? await previewMountRestore(reader, subtree, mount.path, {
          ...(path ? { include: [treePath(path)] } : {}),
          signal: ctx.signal,
        })
      : undefined
    mounts.push({
      mount: mount.name,
      files: m.files,
      bytes: m.bytes,
      changedFiles: t ? t.write + t.copy + t.make + t.link + t.remove : m.files,
      changedBytes: t ? t.bytesWrite + t.bytesCopy : m.bytes,
    })
  }
  const databases: RestorePreview['databases'][number][] = []
  for (const job of planServiceRestores(manifest, target, only)) {
    for (const p of await previewService(job, reader, snap.tree, ctx)) {
      const stored = job.stored.databases.find((d) => d.name === p.database)
      const reloadBytes = (stored?.tables ?? [])
        .filter((t) => p.reload.includes(t.name))
        .reduce((n, t) => n + t.bytes, 0)
      databases.push({
        service: job.stored.name,
        database: p.target,
        tables: p.reload.length + p.keep.length,
        bytes: stored?.bytes ?? 0,
        changedTables: p.reload.length,
        changedBytes: reloadBytes,
      })
    }
  }
  const bytesToRestore =
    mounts.reduce((n, m) => n + m.changedBytes, 0) +
    databases.reduce((n, d) => n + d.changedBytes, 0)
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
 * Restores an environment from a snapshot: every part is staged first — mounts into staging
 * areas on their filesystems, databases into staging databases, both delta (what already
 * matches is neither read nor rewritten) — and only when all are staged does the switch run
 * for all of them, back to back, inside the environment's hold hook, so the site never sees
 * new files with the old database. A failure or kill before the switch leaves the
 * environment as it was; leftovers are removed by `cleanupStaging` or the next restore.
 */
export async function restoreEnvironment(
  repo: Repository,
  snapshotId: string,
  target: EnvironmentSpec,
  only: readonly RestorePart[],
  callerCtx: OpContext,
  opts: { readonly verifyContent?: boolean; readonly commitPoint?: RestoreCommitPoint } = {},
): Promise<RestoreResult> {
  assertMountsApart(target.mounts)
  // The lock's second look for conflicting locks (200 ms after it is written, as restic's)
  // runs while the restore reads the repository and stages: nothing is switched before it
  // has confirmed the lock, and a conflict it finds aborts the staging, which is discarded.
  const lock = await repo.startLock(false, { signal: callerCtx.signal, now: callerCtx.now })
  const ctx: OpContext = {
    ...callerCtx,
    signal: AbortSignal.any([callerCtx.signal, lock.signal]),
  }
  const staged: { name: string; restore: StagedRestore }[] = []
  let mountsStaging: Promise<void> = Promise.resolve()
  let stopStaging = (): void => undefined
  // Once the commit record is written nothing is undone: the parts are finished, now or by
  // `cleanupStaging` with the record.
  let decided = false
  try {
    const reader = await RepoReader.open(repo, ctx.signal, {
      treeReadAhead: true,
      startWorkers: true,
    })
    const snap = await findEnvironmentSnapshot(reader, target.project, snapshotId, ctx.signal)
    const manifest = await readManifest(reader, snap, ctx.signal)
    const plan = planParts(manifest, target, only)
    const serviceJobs = planServiceRestores(manifest, target, only)

    let filesWritten = 0
    let filesKept = 0
    // The mounts are staged while the databases are (the files' walk and writes beside the
    // tables' reads and loads), and both wait for the hold. A database that fails stops the
    // mounts' staging (`staging`) before what they staged is discarded; a mount that fails
    // reaches the databases at their barrier, where they roll back.
    const staging = new AbortController()
    const stagingSignal = AbortSignal.any([ctx.signal, staging.signal])
    mountsStaging = (async () => {
      for (const { mount, path } of plan.mounts) {
        ctx.logLine(`Staging mount ${mount.name}`)
        const subtree = await reader.subtreeAt(
          snap.tree,
          treePath(`mounts/${mount.name}`),
          stagingSignal,
        )
        if (!subtree)
          throw new CofferError(
            'restore_failed',
            `The snapshot has no data for mount ${mount.name}.`,
          )
        const restore = await stageRestore(reader, subtree, mount.path, {
          ...(path ? { include: [treePath(path)] } : {}),
          ...(opts.verifyContent ? { verifyContent: true } : {}),
          signal: stagingSignal,
          log: ctx.log,
        })
        staged.push({ name: mount.name, restore })
        const t = restore.totals
        filesKept += t.keep
        ctx.logLine(
          `Mount ${mount.name}: ${t.write + t.copy} file${t.write + t.copy === 1 ? '' : 's'} to write, ${t.keep} unchanged, ${t.remove} to remove`,
        )
      }
    })()
    // Its failure is awaited with the databases' barrier, or in the catch.
    mountsStaging.catch(() => undefined)
    stopStaging = () => staging.abort(new Error('the restore failed'))

    let switchMs = 0
    /** Switched mounts, whose old versions are removed once the hold is released. */
    const switched: StagedRestore[] = []
    const switchAll = async (): Promise<void> => {
      // Once decided, an abort no longer stops the switch: the cleanup would finish it anyway.
      if (!decided) ctx.signal.throwIfAborted()
      const started = performance.now()
      while (staged.length > 0) {
        const { name, restore } = staged[0]!
        const stats = await restore.switchIn()
        staged.shift()
        switched.push(restore)
        filesWritten += stats.filesWritten
        ctx.log.info({ mount: name, switchMs: stats.switchMs }, 'mount switched')
        for (const w of stats.warnings) ctx.logLine(`Warning: ${w}`)
      }
      switchMs += performance.now() - started
    }
    const services = await restoreServicesThenSwitch(serviceJobs, reader, snap.tree, target, ctx, {
      // The databases are staged: the mounts must be too before the hold, and the lock
      // confirmed.
      staged: async () => {
        await Promise.all([mountsStaging, lock.confirmed])
      },
      // Inside the hold, every part staged, before any is switched: the environment's point
      // of no return. If recording fails, every part is rolled back.
      decide: async (journals) => {
        if (!opts.commitPoint) return
        const mounts = staged.map(({ name, restore }) => ({ name, id: restore.id }))
        await opts.commitPoint.record({ version: 1, services: journals, mounts })
        decided = true
      },
      // Inside the hold, right after the databases' switch.
      afterDatabases: switchAll,
      // Every part is switched: the decision is no longer needed. Then, outside the hold, a
      // whole-mount switch's old version beside the mount is removed.
      afterRelease: async () => {
        if (decided) await opts.commitPoint?.clear()
        for (const restore of switched)
          for (const w of await restore.cleanUp()) {
            ctx.log.warn({ warning: w }, 'mount restore left something behind')
            ctx.logLine(`Warning: ${w}`)
          }
      },
    })
    switchMs = Math.round(switchMs + services.switchMs)
    ctx.logLine(`Switched in ${switchMs} ms`)
    return {
      snapshot: snapshotInfo(snap, manifest),
      switchMs,
      tablesReloaded: services.reloaded,
      tablesKept: services.kept,
      filesWritten,
      filesKept,
    }
  } catch (e) {
    if (!decided) {
      stopStaging()
      await mountsStaging.catch(() => undefined)
      await Promise.allSettled(staged.map((s) => s.restore.discard()))
    }
    // A part stopped by the lock's refusal fails with an abort: the refusal is the error.
    throw lock.signal.aborted && !callerCtx.signal.aborted ? lock.signal.reason : e
  } finally {
    await lock.release()
  }
}

/**
 * Stages every database service (concurrently: each waits at the barrier when staged), then
 * takes the environment's hold, lets all of them switch, runs `afterDatabases` (the mounts'
 * switch) and releases; then runs `afterRelease` while the services drop what their switch
 * set aside, and waits for both. Without services: hold, `afterDatabases`, release,
 * `afterRelease`.
 */
async function restoreServicesThenSwitch(
  jobs: readonly ServiceRestoreJob[],
  reader: RepoReader,
  root: TreeId,
  env: EnvironmentSpec,
  ctx: OpContext,
  steps: {
    /** Resolves when the environment's other parts are staged too. */
    staged: () => Promise<void>
    decide: (journals: RestoreCommitRecord['services']) => Promise<void>
    afterDatabases: () => Promise<void>
    /** After the hold is released, while the databases drop what their switch set aside. */
    afterRelease: () => Promise<void>
  },
): Promise<{ reloaded: number; kept: number; switchMs: number }> {
  const ready = jobs.map(() => deferred())
  const switched = jobs.map(() => deferred())
  const gate = deferred()
  const journals: { name: string; journal: string }[] = []
  const runs = jobs.map((job, i) =>
    restoreService(
      job,
      reader,
      root,
      ctx,
      async (journal) => {
        if (journal) journals.push({ name: job.stored.name, journal })
        ready[i]!.resolve()
        await gate.promise
      },
      () => switched[i]!.resolve(),
    ).then(
      (r) => {
        // A service with nothing to switch may finish without reaching the barrier.
        ready[i]!.resolve()
        switched[i]!.resolve()
        return r
      },
      (e: unknown) => {
        ready[i]!.reject(e)
        switched[i]!.reject(e)
        throw e
      },
    ),
  )
  // Every run's failure is also reported through `ready` or awaited below.
  for (const r of runs) r.catch(() => undefined)
  try {
    await Promise.all([...ready.map((r) => r.promise), steps.staged()])
  } catch (e) {
    gate.reject(e)
    await Promise.allSettled(runs)
    throw e
  }
  let held = false
  let dbSwitchMs: number
  try {
    if (env.hooks?.hold) {
      await runHook('hold', env.hooks.hold, HOLD_TIMEOUT_MS, ctx.signal)
      held = true
    }
    await steps.decide(journals)
    const started = performance.now()
    gate.resolve()
    // Switched, not finished: what a database's switch set aside is dropped outside the hold,
    // and the mounts switch right after the databases, not after those drops.
    await Promise.all(switched.map((s) => s.promise))
    dbSwitchMs = performance.now() - started
    await steps.afterDatabases()
  } catch (e) {
    gate.reject(e)
    await Promise.allSettled(runs)
    throw e
  } finally {
    if (held && env.hooks?.release)
      await runHook('release', env.hooks.release, HOLD_TIMEOUT_MS).catch((e: unknown) =>
        ctx.log.error({ err: e }, 'the release hook failed after a restore'),
      )
  }
  // The databases' drops and the caller's own cleanup side by side; both are waited for.
  const [services, after] = await Promise.allSettled([Promise.all(runs), steps.afterRelease()])
  if (services.status === 'rejected') throw services.reason
  if (after.status === 'rejected') throw after.reason
  const results = services.value
  return {
    reloaded: results.reduce((n, r) => n + r.reloaded, 0),
    kept: results.reduce((n, r) => n + r.kept, 0),
    switchMs: dbSwitchMs,
  }
}

interface Deferred {
  readonly promise: Promise<void>
  resolve(): void
  reject(e: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // Rejected when nobody waits any more (the others failed first): not an unhandled error.
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

/**
 * Removes what a restore killed before its switch left behind, or finishes its switch when
 * it was killed past its point of no return: with `decided` (the commit record the restore
 * wrote, see RestoreCommitPoint) every part it names is committed first, so that all of them
 * are finished; without one, mounts' and databases' own commits decide, part by part.
 */
export async function cleanupStaging(
  env: EnvironmentSpec,
  ctx: OpContext,
  decided?: RestoreCommitRecord,
): Promise<void> {
  for (const m of decided?.mounts ?? []) {
    const mount = env.mounts.find((x) => x.name === m.name)
    if (mount) await withMountLock(mount.path, ctx.log, () => commitStagedRestore(mount.path, m.id))
  }
  for (const s of env.services) {
    const commit = (decided?.services ?? []).filter((x) => x.name === s.name).map((x) => x.journal)
    try {
      const finished = await recoverMysqlRestores(parseMysqlUrl(s.url), ctx.log, { commit })
      if (finished.length > 0)
        ctx.logLine(
          `Service ${s.name}: an interrupted restore of ${finished.join(', ')} was finished`,
        )
    } catch (e) {
      // Decided journals must be finished before anything else runs: say so. Otherwise the
      // next restore into those databases finishes or removes what is left.
      if (commit.length > 0) throw e
      ctx.log.warn({ err: e, service: s.name }, 'interrupted restores not looked for')
    }
  }
  for (const m of env.mounts) {
    for (const r of await withMountLock(m.path, ctx.log, () => recoverStagedRestore(m.path)))
      ctx.logLine(
        r.warning
          ? `Mount ${m.name}: warning: ${r.warning}`
          : `Mount ${m.name}: an interrupted restore was ${r.outcome === 'completed' ? 'completed' : 'rolled back'}`,
      )
  }
}
