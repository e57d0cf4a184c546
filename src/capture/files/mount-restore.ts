import { createHash } from 'node:crypto'
import { constants, linkSync, mkdirSync } from 'node:fs'
import { link, lstat, mkdir, open, readdir, readFile, realpath, statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { CofferError } from '../../errors.js'
import { Limiter, observed, settleAll, silentLogger, type Logger } from '../../lib/index.js'
import {
  goModeFromPosix,
  goTimeFromNs,
  posixPermFromGo,
  type BlobId,
  type Node,
  type TreeId,
  type TreePath,
} from '../../repo/index.js'
import { EntryWriter, type ContentSource } from './entry-writer.js'
import { nodeFromStat } from './node-from-stat.js'
import {
  dirMetaSame,
  planRestore,
  type Existing,
  type PlanDir,
  type PlanEntry,
  type PlanTotals,
  type PlanTrees,
} from './restore-plan.js'
import { mountDirectory } from './mount-directory.js'
import { lockMount } from './mount-lock.js'
import { recoverStagedRestore, type Recovery } from './restore-recovery.js'
import { refuseUnchangeable } from './change-probe.js'
import { besideNames, insideStage, newRestoreId } from './stage-names.js'
import {
  applySwitch,
  markCommitted,
  writePlan,
  finishSwitch,
  saveRootTimes,
  type SwitchOp,
} from './switch-journal.js'
import { finishWhole, switchWhole } from './whole-switch.js'
import type { XattrMap } from './xattr-dump.js'
import { readXattrTree } from './xattr-tool.js'

/** What a staged restore needs from the repository (RepoReader has it). */
export interface RestoreSource extends PlanTrees, ContentSource {
  readonly index: {
    lookup(
      type: 'data',
      id: BlobId,
    ): { readonly length: number; readonly uncompressedLength?: number } | undefined
  }
}

/**
 * How the switch is done (docs/FILES.md, "What is atomic"):
 * - `whole`: the new mount is built beside the old one and renamed into its place;
 * - `per-file`: changed entries are staged inside the mount and renamed into place one by
 *   one, in a fixed order, from a committed list that a later run replays after a crash;
 * - `auto`: `whole` unless the mount root is a mount point (or `/`), whose directory cannot
 *   be renamed.
 */
export const SWITCH_MODES = ['auto', 'whole', 'per-file'] as const
export type SwitchMode = (typeof SWITCH_MODES)[number]

export interface MountRestoreOptions {
  /** Restore only these paths (and what is below them), relative to the mount. */
  readonly include?: readonly TreePath[]
  /** Compare same-size files by content hash instead of trusting size and mtime. */
  readonly verifyContent?: boolean
  /** Set owners from the snapshot; by default only when running as root. */
  readonly owners?: boolean
  readonly switchMode?: SwitchMode
  /** Extended attributes: compared and restored (needs getfattr/setfattr). Default true. */
  readonly xattrs?: boolean
  /** Refuse unless this many bytes stay free after staging. */
  readonly minFreeBytes?: number
  /** The snapshot's node of the mount directory itself (its mode, owner, times). */
  readonly rootNode?: Node
  /** Files written at once. */
  readonly concurrency?: number
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly onProgress?: (p: MountRestoreProgress) => void
  /**
   * `restoreMount` only: awaited once everything is staged, before the switch; when it
   * fails, the staged restore is discarded and the mount stays as it was (a caller that
   * staged before its repository lock was confirmed waits for it here).
   */
  readonly beforeSwitch?: () => Promise<void>
}

export interface MountRestoreProgress {
  readonly phase: 'stage' | 'switch' | 'cleanup'
  readonly done: number
  readonly total: number
  readonly bytes: number
}

export interface MountRestoreStats {
  readonly mode: 'whole' | 'per-file'
  readonly totals: PlanTotals
  /** Bytes read from the repository and written (the delta). */
  readonly bytesWritten: number
  readonly filesWritten: number
  /** The switch itself (renames), in milliseconds. */
  readonly switchMs: number
  readonly ownersRestored: boolean
  /** What earlier, interrupted restores of this mount left and how it was resolved. */
  readonly recovered: readonly Recovery[]
  /**
   * What the restore did otherwise than asked, or could not finish beside the mount (an
   * immutable file kept as a copy, an old version it could not remove), one sentence each.
   */
  readonly warnings: readonly string[]
}

/** A restore staged and ready to switch in; exactly one of the methods is called, once. */
export interface StagedRestore {
  readonly mode: 'whole' | 'per-file'
  /**
   * The staging area's ID: a caller that records its own decision to switch can commit the
   * staged restore by it after a crash (`commitStagedRestore`).
   */
  readonly id: string
  readonly totals: PlanTotals
  /**
   * Switches the staged version in (short). In whole mode the old version stays beside the
   * mount, outside it, until `cleanUp`: its removal (a link per kept file) need not hold up
   * the caller's pause.
   */
  switchIn(): Promise<MountRestoreStats>
  /**
   * After `switchIn`: removes what the switch left beside the mount. The mount is not
   * touched; idempotent. Not called (a kill), it is done by the mount's next restore. What it
   * could not remove is left and named in the warnings it returns: the restore is complete.
   */
  cleanUp(): Promise<readonly string[]>
  /** Removes the staging area; the mount stays exactly as it was. */
  discard(): Promise<void>
}

const slash = Buffer.from('/')
const join = (dir: Buffer, name: Uint8Array): Buffer => Buffer.concat([dir, slash, name])
const show = (p: Buffer): string => p.toString('utf8')
const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')
/** Kept files linked between two yields to the event loop (a few milliseconds). */
const LINKS_PER_YIELD = 256
/** Room counted for each staged entry beyond its bytes (inode, directory block). */
const ENTRY_OVERHEAD = 4096

/**
 * Stages a restore of `tree` into `mountPath` (docs/FILES.md, "Staged restore"): first
 * finishes or discards what an interrupted earlier restore left, then plans against what the
 * mount holds (delta: entries identical to the snapshot are neither read nor rewritten),
 * checks free space, and writes every new or changed entry into a staging area on the
 * mount's filesystem. The mount is not changed until `switchIn`.
 *
 * Safety: the snapshot is refused when it holds names that could leave the mount; entries are
 * created only in fresh staging directories (O_EXCL, O_NOFOLLOW), so no symlink, planted or
 * restored, is ever followed while writing.
 *
 * One restore of a mount at a time: the mount's restore lock (mount-lock.ts) is taken first and
 * held until `switchIn` or `discard` ends; a second restore of the mount meanwhile is refused.
 *
 * Errors: `conflict` when another restore of the mount is running; `no_space` when the staged
 * data would not fit; `restore_failed` for unsafe snapshots and write failures; the staging
 * area is removed on any failure.
 */
export async function stageRestore(
  source: RestoreSource,
  tree: TreeId,
  mountPath: string,
  opts: MountRestoreOptions = {},
): Promise<StagedRestore> {
  // A link at the mount's path: the directory it leads to is restored (mount-directory.ts).
  const dir = await mountDirectory(mountPath, 'restore_failed')
  const lock = await lockMount(dir, opts.log ?? silentLogger)
  let staged: StagedRestore
  try {
    staged = await stageLocked(source, tree, dir, opts)
  } catch (e) {
    await lock.release()
    throw e
  }
  // Held until the switch is done or the staging discarded: the old version's removal after a
  // whole switch is idempotent, and a later restore that meets it finishes it the same way.
  return {
    ...staged,
    switchIn: async () => {
      try {
        return await staged.switchIn()
      } finally {
        await lock.release()
      }
    },
    discard: async () => {
      try {
        await staged.discard()
      } finally {
        await lock.release()
      }
    },
  }
}

/** `stageRestore` under the mount's restore lock. */
async function stageLocked(
  source: RestoreSource,
  tree: TreeId,
  mountPath: string,
  opts: MountRestoreOptions,
): Promise<StagedRestore> {
  const log = opts.log ?? silentLogger
  const signal = opts.signal
  const isRoot = process.getuid?.() === 0
  const owners = opts.owners ?? isRoot
  if (!owners) log.warn({ path: mountPath }, 'owners are not restored: not running as root')
  const recovered = await recoverStagedRestore(mountPath)
  for (const r of recovered)
    log.warn({ path: mountPath, ...r }, 'an interrupted restore was resolved')
  const warnings: string[] = []

  const rootSt = await lstat(mountPath, { bigint: true }).catch(() => undefined)
  // Read while the plan walks (getfattr is a process of its own), compared after the walk.
  const readingXattrs: Promise<XattrMap | undefined> = observed(
    (opts.xattrs ?? true) && rootSt
      ? readXattrTree(Buffer.from(mountPath), signal)
      : Promise.resolve(undefined),
  )
  const mode = await chooseMode(mountPath, rootSt !== undefined, opts.switchMode ?? 'auto')
  const plan = await planRestore(source, tree, opts.rootNode, mountPath, {
    include: opts.include,
    owners,
    targetXattrs: readingXattrs,
    ...(opts.verifyContent ? { verify: (p, n) => sameContent(source, p, n) } : {}),
    ...(signal ? { signal } : {}),
  })
  const targetXattrs = await readingXattrs
  const t = plan.totals
  if (!rootSt) await mkdir(dirname(mountPath), { recursive: true })
  await checkSpace(
    mode === 'whole' || !rootSt ? dirname(mountPath) : mountPath,
    t.bytesWrite + t.bytesCopy + ENTRY_OVERHEAD * (t.write + t.copy + t.make + t.dirs),
    opts.minFreeBytes ?? 0,
  )

  const id = newRestoreId()
  const written = { files: 0, bytes: 0 }
  const writer = new EntryWriter(source, owners, written, signal)
  const limiter = new Limiter(opts.concurrency ?? 8)
  const stagedAt = new Map<PlanEntry, Promise<Buffer>>()
  /**
   * Hard links and directories' metadata, done once every file is written (files are written
   * pack by pack after the walk: a link needs its first path complete, and a directory's
   * times and mode must not change, or stop a file being created, after they are set).
   */
  const links: (() => Promise<void>)[] = []
  /**
   * Directories of kept files (whole mode): where each is now, where it is in the new tree,
   * its plan (paths are joined when linked: a mount of a million files keeps a million).
   */
  const kept: [Buffer, Buffer, PlanDir][] = []
  const dirMetas: [Buffer, Node][] = []
  const toStage = t.write + t.copy + t.make + t.link
  let staged = 0
  const progress = (): void =>
    opts.onProgress?.({ phase: 'stage', done: ++staged, total: toStage, bytes: written.bytes })

  /** Stages one non-directory entry at `sp`; `mp` is its current path in the mount. */
  const stageEntry = (e: PlanEntry, sp: Buffer, mp: Buffer | undefined): Promise<void> => {
    let p: Promise<void>
    switch (e.action) {
      case 'keep':
        throw new CofferError('internal', 'kept files are linked by linkKept')
      case 'write':
        // Created now, written with every other file by finishStaging: not waited for here.
        stagedAt.set(
          e,
          observed(writer.queueFile(sp, e.node).then(progress)).then(() => sp),
        )
        return Promise.resolve()
      case 'copy':
        p = limiter.run(() => writer.copyFile(mp!, sp, e.node)).then(progress)
        break
      case 'make':
        p = writer.make(sp, e.node).then(progress)
        break
      case 'link': {
        const first = stagedAt.get(e.linkTo!)
        if (!first) throw new CofferError('internal', 'hard link staged before its first path')
        links.push(() => first.then((f) => link(f, sp)).then(progress))
        return Promise.resolve()
      }
      case 'dir':
        throw new CofferError('internal', 'directories are staged by stageDir')
      default:
        return e.action satisfies never
    }
    const done = observed(p.then(() => sp))
    stagedAt.set(e, done)
    return observed(p)
  }

  /** Builds directory `d` at `sp` with all its entries (whole mode, or a new directory). */
  const stageDir = async (d: PlanDir, sp: Buffer, mp: Buffer | undefined): Promise<void> => {
    signal?.throwIfAborted()
    // Synchronous, as the links of its files: a whole switch makes every directory again.
    mkdirSync(sp, { mode: 0o700 })
    const pending: Promise<void>[] = []
    let failure: { error: unknown } | undefined
    try {
      // Whole mode only: kept entries are the same inodes, linked into the new tree (neither
      // read nor copied) by finishStaging, while the workers write the files that changed.
      if (mp) kept.push([mp, sp, d])
      for (const e of d.entries) {
        if (e.action === 'keep') continue
        const esp = join(sp, e.name)
        const emp = mp && e.existing ? join(mp, e.name) : undefined
        if (e.action === 'dir') await stageDir(e.dir!, esp, e.dir!.existing ? emp : undefined)
        else pending.push(stageEntry(e, esp, emp))
      }
      for (const name of mp ? d.carry : []) await carry(join(mp!, name), join(sp, name))
    } catch (error) {
      failure = { error }
    }
    await settleAll(pending, failure)
    dirMetas.push([sp, dirMeta(d, mp)])
  }

  /** After the walk: file contents, then hard links, then directories' metadata (see links). */
  const finishStaging = async (): Promise<void> => {
    // A whole switch of a delta links thousands of kept files (synchronous calls on this
    // thread) and writes a few changed ones (mostly on the workers): both at once.
    const writing = observed(writer.writeFiles())
    let failure: { error: unknown } | undefined
    try {
      await linkKept()
    } catch (error) {
      failure = { error }
    }
    await settleAll([writing], failure)
    for (const l of links) await l()
    for (const [sp, node] of dirMetas) await writer.setMeta(sp, node)
    await writer.flushXattrs()
  }

  /** Links the kept files into the new tree, yielding now and then to the writes' messages. */
  const linkKept = async (): Promise<void> => {
    let linked = 0
    for (const [dir, stagedDir, d] of kept) {
      for (const e of d.entries) {
        if (e.action !== 'keep') continue
        const mp = join(dir, e.name)
        const sp = join(stagedDir, e.name)
        try {
          linkSync(mp, sp)
        } catch (err) {
          await keepAsCopy(err, mp, sp, e.node)
        }
        if (++linked % LINKS_PER_YIELD === 0) await yieldToLoop()
      }
    }
  }

  /**
   * A file the file system will not link, being immutable or append-only (`chattr +i`, as
   * some harden app/etc/env.php): copied into the new version instead. The old version,
   * holding the file, cannot be removed after the switch (cleanUp says so).
   */
  const keepAsCopy = async (err: unknown, mp: Buffer, sp: Buffer, node: Node): Promise<void> => {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM' || node.type !== 'file') throw err
    await writer.copyFile(mp, sp, node)
    warnings.push(
      `${show(mp)} is immutable or append-only (chattr +i or +a): the restored mount has a copy of it without the flag.`,
    )
  }

  /** Copies an entry outside the included paths as it is: hard links, directories rebuilt. */
  const carry = async (from: Buffer, to: Buffer): Promise<void> => {
    const st = await lstat(from, { bigint: true })
    if (!st.isDirectory())
      return link(from, to).catch((err: unknown) => {
        const attrs = targetXattrs?.get(latin1(from))
        const node = nodeFromStat(Buffer.alloc(0), st)
        return keepAsCopy(err, from, to, attrs ? { ...node, extendedAttributes: attrs } : node)
      })
    await mkdir(to, { mode: 0o700 })
    for (const n of await readdir(from, { encoding: 'buffer' }))
      await carry(join(from, n), join(to, n))
    const node = nodeFromStat(Buffer.alloc(0), st)
    const attrs = targetXattrs?.get(latin1(from))
    await writer.setMeta(to, attrs ? { ...node, extendedAttributes: attrs } : node)
  }

  /** A directory's metadata: the snapshot's when restored whole, else what it has now. */
  const dirMeta = (d: PlanDir, mp: Buffer | undefined): Node => {
    if (d.node && d.scope === 'all') return d.node
    if (d.existing && mp) {
      const attrs = targetXattrs?.get(latin1(mp))
      const node = nodeOfExisting(d.existing)
      return attrs ? { ...node, extendedAttributes: attrs } : node
    }
    return d.node ?? nodeOfExisting(undefined)
  }

  const m = Buffer.from(mountPath)
  if (mode === 'whole') {
    const names = besideNames(mountPath, id)
    try {
      await stageDir(plan.root, Buffer.from(names.stage), rootSt ? m : undefined)
      await finishStaging()
    } catch (e) {
      await writer.dropFiles()
      await recoverStagedRestore(mountPath).catch(() => undefined)
      throw e
    }
    return {
      mode,
      id,
      totals: t,
      switchIn: async () => {
        const started = performance.now()
        await switchWhole(mountPath, names, rootSt !== undefined, (done, total) =>
          opts.onProgress?.({ phase: 'switch', done, total, bytes: written.bytes }),
        )
        return stats(mode, Math.round(performance.now() - started))
      },
      cleanUp: async () => {
        opts.onProgress?.({ phase: 'cleanup', done: 0, total: 1, bytes: written.bytes })
        const left = await finishWhole(names)
        return left ? [left] : []
      },
      discard: async () => {
        await recoverStagedRestore(mountPath)
      },
    }
  }

  // Per-file: stage what changes inside the mount, then a committed list of renames.
  if (!rootSt) await mkdir(mountPath, { recursive: true })
  const rootNow = await lstat(mountPath, { bigint: true })
  const stage = insideStage(mountPath, id)
  const data = Buffer.from(`${stage}/d`)
  const ops: SwitchOp[] = []
  let n = 0
  const walk = async (d: PlanDir, rel: Buffer | undefined, mp: Buffer): Promise<void> => {
    const relOf = (name: Buffer): Buffer => (rel ? Buffer.concat([rel, slash, name]) : name)
    for (const name of d.remove) ops.push({ op: 'trash', path: relOf(name), to: String(n++) })
    // Whether the switch renames anything in this directory (which moves its mtime).
    let touched = d.remove.length > 0
    const pending: Promise<void>[] = []
    let failure: { error: unknown } | undefined
    try {
      for (const e of d.entries) {
        const path = relOf(e.name)
        if (e.action === 'dir' && e.dir!.existing) {
          await walk(e.dir!, path, join(mp, e.name))
          continue
        }
        if (e.action === 'keep') continue
        touched = true
        const from = String(n++)
        const sp = join(data, Buffer.from(from))
        if (e.action === 'dir') await stageDir(e.dir!, sp, undefined)
        else pending.push(stageEntry(e, sp, e.existing ? join(mp, e.name) : undefined))
        // A rename replaces a file or a link in one step; a directory in the way (or a file
        // where a directory goes) is moved to the trash first.
        if (e.existing && (e.existing.type === 'dir' || e.node.type === 'dir'))
          ops.push({ op: 'trash', path, to: String(n++) })
        ops.push({ op: 'put', from, path })
      }
    } catch (error) {
      failure = { error }
    }
    await settleAll(pending, failure)
    const meta = dirMeta(d, mp)
    // A directory the switch leaves alone and whose metadata is the snapshot's already needs
    // no step (a delta restore would otherwise set every directory's metadata again). The
    // root's step stays: the staging area inside it moves its times.
    if (rel && !touched && dirMetaSame(meta, d.existing!, targetXattrs?.get(latin1(mp)), owners))
      return
    ops.push({
      op: 'meta',
      path: rel ?? Buffer.alloc(0),
      perm: posixPermFromGo(meta.mode ?? 0o755),
      ...(owners ? { uid: meta.uid, gid: meta.gid } : {}),
      atimeNs: meta.atime.unixNs,
      mtimeNs: meta.mtime.unixNs,
      ...(meta.extendedAttributes ? { attrs: meta.extendedAttributes } : {}),
    })
  }
  try {
    await mkdir(stage, { mode: 0o700 })
    await saveRootTimes(stage, rootNow.atimeNs, rootNow.mtimeNs)
    await mkdir(`${stage}/d`, { mode: 0o700 })
    await mkdir(`${stage}/t`, { mode: 0o700 })
    await walk(plan.root, undefined, m)
    // Probed while the files are written (its lsattr run is a process of its own).
    const probing = observed(
      refuseUnchangeable(
        mountPath,
        ops.flatMap((o) => (o.op === 'meta' ? [] : [o.path])),
        Buffer.from(`${stage}/t`),
      ),
    )
    await settleAll([finishStaging(), probing])
    await writePlan(stage, ops)
  } catch (e) {
    await writer.dropFiles()
    await recoverStagedRestore(mountPath).catch(() => undefined)
    throw e
  }
  return {
    mode,
    id,
    totals: t,
    switchIn: async () => {
      const started = performance.now()
      await markCommitted(stage)
      await applySwitch(mountPath, stage, ops, (done, total) =>
        opts.onProgress?.({ phase: 'switch', done, total, bytes: written.bytes }),
      )
      const switchMs = Math.round(performance.now() - started)
      opts.onProgress?.({ phase: 'cleanup', done: 0, total: 1, bytes: written.bytes })
      await finishSwitch(mountPath, stage, ops)
      return stats(mode, switchMs)
    },
    // The staging area is inside the mount: removed by the switch, with the root's times
    // put back after it.
    cleanUp: () => Promise.resolve([]),
    discard: async () => {
      await recoverStagedRestore(mountPath)
    },
  }

  function stats(mode: 'whole' | 'per-file', switchMs: number): MountRestoreStats {
    return {
      mode,
      totals: t,
      bytesWritten: written.bytes,
      filesWritten: written.files,
      switchMs,
      ownersRestored: owners,
      recovered,
      warnings,
    }
  }
}

/**
 * What restoring `tree` into `mountPath` would write, keep and remove, without changing
 * anything or reading file contents from the repository (the same plan `stageRestore`
 * makes; with `verifyContent`, local files are read to compare).
 */
export async function previewMountRestore(
  source: RestoreSource,
  tree: TreeId,
  mountPath: string,
  opts: Pick<
    MountRestoreOptions,
    'include' | 'verifyContent' | 'owners' | 'rootNode' | 'signal'
  > = {},
): Promise<PlanTotals> {
  const owners = opts.owners ?? process.getuid?.() === 0
  const dir = await mountDirectory(mountPath, 'restore_failed')
  const plan = await planRestore(source, tree, opts.rootNode, dir, {
    include: opts.include,
    owners,
    targetXattrs: undefined,
    ...(opts.verifyContent ? { verify: (p, n) => sameContent(source, p, n) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
  return plan.totals
}

/**
 * Restores `tree` into `mountPath`, staged then switched (see `stageRestore`). A failure or
 * a kill before the switch leaves the mount exactly as it was; one during the switch is
 * finished by the next run (`recoverStagedRestore`, which every restore calls first).
 *
 * @example
 * const reader = await RepoReader.open(repo)
 * const tree = await reader.subtreeAt(snapshot.tree, treePath('mounts/pub/media'))
 * await restoreMount(reader, tree!, '/srv/shop/pub/media', { verifyContent: false })
 */
export async function restoreMount(
  source: RestoreSource,
  tree: TreeId,
  mountPath: string,
  opts: MountRestoreOptions = {},
): Promise<MountRestoreStats> {
  const staged = await stageRestore(source, tree, mountPath, opts)
  if (opts.beforeSwitch) {
    try {
      await opts.beforeSwitch()
    } catch (e) {
      await staged.discard()
      throw e
    }
  }
  const stats = await staged.switchIn()
  const left = await staged.cleanUp()
  return { ...stats, warnings: [...stats.warnings, ...left] }
}

async function chooseMode(
  mountPath: string,
  exists: boolean,
  wanted: SwitchMode,
): Promise<'whole' | 'per-file'> {
  if (wanted !== 'auto') return wanted
  if (!exists) return 'whole'
  const parent = dirname(mountPath)
  if (parent === mountPath) return 'per-file'
  const [a, b] = await Promise.all([lstat(mountPath), lstat(parent)])
  // A mount point (another filesystem than its parent) cannot be renamed; nor can a bind
  // mount of a directory of the same filesystem, which only the mount table tells.
  if (a.dev !== b.dev) return 'per-file'
  return (await isMountPoint(mountPath)) ? 'per-file' : 'whole'
}

/** Whether `path` is listed as a mount point in /proc/self/mountinfo (Linux). */
async function isMountPoint(path: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => undefined)
  if (table === undefined) return false
  const real = await realpath(path)
  // Field 5 is the mount point, with space, tab, newline and backslash written as \ooo.
  const unescape = (f: string): string =>
    f.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return table.split('\n').some((line) => {
    const field = line.split(' ')[4]
    return field !== undefined && unescape(field) === real
  })
}

async function checkSpace(dir: string, need: number, reserve: number): Promise<void> {
  const fs = await statfs(dir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  if (free - reserve < need)
    throw new CofferError(
      'no_space',
      `Not enough free space to stage the restore in ${dir}: ${need} bytes needed${reserve ? ` (plus ${reserve} kept free)` : ''}, ${free} free; nothing was changed.`,
    )
}

/**
 * Whether the file at `p` holds exactly the content `node` lists: the file is cut at the
 * snapshot's blob boundaries (blob lengths from the index) and each piece's SHA-256 is
 * compared with the blob ID. Reads the local file only, never the repository.
 */
async function sameContent(source: RestoreSource, p: Buffer, node: Node): Promise<boolean> {
  const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined)
  if (!fh) return false
  try {
    let pos = 0
    for (const id of node.content ?? []) {
      const loc = source.index.lookup('data', id)
      if (!loc) return false
      const len = loc.uncompressedLength ?? loc.length - 32
      const buf = Buffer.allocUnsafe(len)
      let got = 0
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, pos + got)
        if (bytesRead === 0) return false
        got += bytesRead
      }
      pos += len
      if (createHash('sha256').update(buf).digest('hex') !== id) return false
    }
    const extra = await fh.read(Buffer.alloc(1), 0, 1, pos)
    return extra.bytesRead === 0
  } finally {
    await fh.close()
  }
}

/** A directory node carrying what the target has now (or defaults for a new directory). */
function nodeOfExisting(ex: Existing | undefined): Node {
  const now = BigInt(Date.now()) * 1_000_000n
  return {
    name: Buffer.alloc(0),
    type: 'dir',
    mode: goModeFromPosix(0o040000 | (ex?.perm ?? 0o755)),
    mtime: goTimeFromNs(ex?.mtimeNs ?? now),
    atime: goTimeFromNs(ex?.atimeNs ?? now),
    ctime: goTimeFromNs(ex?.mtimeNs ?? now),
    uid: ex?.uid ?? process.getuid?.() ?? 0,
    gid: ex?.gid ?? process.getgid?.() ?? 0,
    content: null,
  }
}
