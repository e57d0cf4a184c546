import { CofferError, IntegrityError } from '../errors.js'
import { forEachLimit } from '../lib/index.js'
import { handleName } from './backend/index.js'
import { openBlob } from './blob-codec.js'
import { BlobSaver } from './blob-saver.js'
import type { BlobId, IndexId, PackId } from './id.js'
import {
  encodeIndexFile,
  MasterIndex,
  MAX_BLOBS_PER_INDEX_FILE,
  type IndexedPack,
} from './index/index.js'
import type { BlobType, PackEntry } from './pack/index.js'
import type { Repository } from './repository.js'
import { RepoReader } from './repo-reader.js'

export interface PruneOptions {
  /** Unused space tolerated after prune, in percent of used space (restic's --max-unused). */
  readonly maxUnusedPercent?: number
  readonly dryRun?: boolean
  readonly signal?: AbortSignal
  readonly now?: () => Date
  readonly progress?: (p: { phase: string; done: number; total: number }) => void
}

export interface PrunePlan {
  /** Packs kept as they are. */
  readonly keep: readonly PackId[]
  /** Packs whose used blobs are copied into new packs, then removed. */
  readonly repack: readonly { readonly pack: PackId; readonly blobs: readonly PackEntry[] }[]
  /** Packs with nothing used (or in no index), removed. */
  readonly remove: readonly PackId[]
  readonly stats: {
    readonly usedBlobs: number
    readonly usedBytes: number
    readonly unusedBytes: number
    readonly unusedBytesAfter: number
    readonly removeBytes: number
    readonly repackBytes: number
  }
}

interface PackInfo {
  readonly id: PackId
  readonly size: number
  readonly entries: readonly PackEntry[]
  /** Entries that are the chosen copy of a used blob. */
  readonly used: PackEntry[]
  usedBytes: number
  unusedBytes: number
}

const blobKey = (type: BlobType, id: BlobId): string => `${type}:${id}`

/**
 * Decides what prune does, without touching the repository (restic's planPrune): each used
 * blob keeps exactly one copy, preferring packs that are used the most; packs holding no
 * kept copy are removed; partly used tree packs are always repacked (they are small), partly
 * used data packs are repacked, emptiest first, until the unused space left is within
 * `maxUnusedPercent` of the used space. Packs in no index are removed.
 *
 * Throws when a used blob is in no pack: pruning then could lose data, `check` must be run.
 */
export function planPrune(
  packs: ReadonlyMap<PackId, readonly PackEntry[]>,
  sizes: ReadonlyMap<PackId, number>,
  used: ReadonlySet<string>,
  maxUnusedPercent: number,
): PrunePlan {
  const infos: PackInfo[] = [...packs].map(([id, entries]) => ({
    id,
    size: sizes.get(id) ?? 0,
    entries,
    used: [],
    usedBytes: 0,
    unusedBytes: 0,
  }))
  // Fuller packs first, so duplicate blobs keep the copy in a pack that stays anyway.
  const usedCount = (p: PackInfo): number =>
    p.entries.filter((e) => used.has(blobKey(e.type, e.id))).length
  const counts = new Map(infos.map((p) => [p.id, usedCount(p) / Math.max(1, p.entries.length)]))
  infos.sort((a, b) => counts.get(b.id)! - counts.get(a.id)! || (a.id < b.id ? -1 : 1))
  const chosen = new Set<string>()
  for (const p of infos) {
    for (const e of p.entries) {
      const k = blobKey(e.type, e.id)
      if (used.has(k) && !chosen.has(k)) {
        chosen.add(k)
        p.used.push(e)
        p.usedBytes += e.length
      } else {
        p.unusedBytes += e.length
      }
    }
  }
  const missing = [...used].filter((k) => !chosen.has(k))
  if (missing.length > 0) {
    throw new CofferError(
      'repo_integrity',
      `Prune refused: ${missing.length} blob(s) used by snapshots are in no pack (e.g. ${missing[0]!.slice(5, 13)}); run repo:check.`,
    )
  }

  const keep: PackId[] = []
  const repack: PackInfo[] = []
  const remove: PackId[] = [...sizes.keys()].filter((id) => !packs.has(id))
  const candidates: PackInfo[] = []
  for (const p of infos) {
    if (p.usedBytes === 0) remove.push(p.id)
    else if (p.unusedBytes === 0) keep.push(p.id)
    else if (p.entries[0]?.type === 'tree') repack.push(p)
    else candidates.push(p)
  }
  const usedBytes = infos.reduce((n, p) => n + p.usedBytes, 0)
  const unusedBytes = infos.reduce((n, p) => n + p.unusedBytes, 0)
  const maxUnused = (usedBytes * maxUnusedPercent) / Math.max(1, 100 - maxUnusedPercent)
  let unusedAfter = candidates.reduce((n, p) => n + p.unusedBytes, 0)
  candidates.sort(
    (a, b) => b.unusedBytes / b.size - a.unusedBytes / a.size || (a.id < b.id ? -1 : 1),
  )
  for (const p of candidates) {
    if (unusedAfter > maxUnused) {
      repack.push(p)
      unusedAfter -= p.unusedBytes
    } else {
      keep.push(p.id)
    }
  }
  return {
    keep,
    repack: repack.map((p) => ({ pack: p.id, blobs: p.used })),
    remove,
    stats: {
      usedBlobs: chosen.size,
      usedBytes,
      unusedBytes,
      unusedBytesAfter: unusedAfter,
      removeBytes: remove.reduce((n, id) => n + (sizes.get(id) ?? 0), 0),
      repackBytes: repack.reduce((n, p) => n + p.size, 0),
    },
  }
}

/** Every blob reachable from a snapshot, as `type:id` keys. */
export async function findUsedBlobs(
  reader: RepoReader,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const used = new Set<string>()
  const queue: BlobId[] = (await reader.repo.listSnapshots(signal)).map((s) => s.tree)
  while (queue.length > 0) {
    const batch = queue.splice(0)
    await forEachLimit(
      batch,
      reader.repo.backend.connections,
      async (tree, sig) => {
        const k = blobKey('tree', tree)
        if (used.has(k)) return
        used.add(k)
        for (const n of await reader.loadTree(tree, sig)) {
          if (n.subtree) queue.push(n.subtree)
          for (const c of n.content ?? []) used.add(blobKey('data', c))
        }
      },
      signal,
    )
  }
  return used
}

export interface PruneResult {
  readonly plan: PrunePlan
  readonly packsWritten: number
  /** Unfinished pack files that killed backups left in the repository's spool (`tmp/`). */
  readonly spooledFilesRemoved: number
}

/**
 * Prunes the repository under an exclusive lock, in an order that keeps it valid if the
 * process dies at any point (design.rst, "Read and Write Ordering"): (1) copy the used blobs
 * of packs to repack into new packs and index them; (2) write a new index of every kept
 * pack and only then remove the old index files; (3) remove the packs no index names.
 * Unfinished pack files of killed backups (PackSpool) are removed first.
 * A blob that fails verification while being copied stops the prune before anything is
 * removed.
 */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const lock = await repo.lock(true, {
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
  const signal = opts.signal ? AbortSignal.any([opts.signal, lock.signal]) : lock.signal
  try {
    repo.invalidateIndex()
    const reader = await RepoReader.open(repo, signal)
    const used = await findUsedBlobs(reader, signal)
    const oldIndexFiles: IndexId[] = []
    for await (const f of repo.backend.list('index', { signal }))
      oldIndexFiles.push(f.name as IndexId)
    const sizes = new Map<PackId, number>()
    for await (const f of repo.backend.list('data', { signal })) sizes.set(f.name as PackId, f.size)
    const indexed = new Map<PackId, readonly PackEntry[]>()
    for (const [id, entries] of reader.index.packs()) if (sizes.has(id)) indexed.set(id, entries)
    const plan = planPrune(indexed, sizes, used, opts.maxUnusedPercent ?? 5)
    if (opts.dryRun) return { plan, packsWritten: 0, spooledFilesRemoved: 0 }
    // Pack files of killed backups: none can be writing now, under this exclusive lock.
    const spooledFilesRemoved = (await repo.backend.spool?.clear()) ?? 0

    // (1) Repack into new packs. The saver deduplicates only against packs that stay.
    const keptIndex = new MasterIndex()
    for (const id of plan.keep) keptIndex.addPack(id, indexed.get(id)!)
    const saver = new BlobSaver(repo, keptIndex)
    let done = 0
    for (const { pack, blobs } of plan.repack) {
      const h = { type: 'data' as const, name: pack }
      for (const e of blobs) {
        const sealed = await repo.backend.load(h, { offset: e.offset, length: e.length, signal })
        const plain = openBlob(repo.key, sealed, e.id, e.uncompressedLength)
        if (typeof plain === 'string') {
          throw new IntegrityError(
            handleName(h),
            `${e.type} blob ${e.id.slice(0, 8)} ${plain}; prune stopped, nothing was removed`,
          )
        }
        await saver.save(e.type, e.id, plain, signal)
      }
      opts.progress?.({ phase: 'repack', done: ++done, total: plan.repack.length })
    }
    await saver.flush(signal)
    const newIndexFiles = new Set(saver.writtenIndexFiles)

    // (2) A fresh index for the kept packs, then the old index files go.
    const kept: IndexedPack[] = plan.keep.map((id) => ({ id, blobs: indexed.get(id)! }))
    for (let i = 0; i < kept.length;) {
      const batch: IndexedPack[] = []
      let blobs = 0
      while (
        i < kept.length &&
        (batch.length === 0 || blobs + kept[i]!.blobs.length <= MAX_BLOBS_PER_INDEX_FILE)
      ) {
        blobs += kept[i]!.blobs.length
        batch.push(kept[i++]!)
      }
      newIndexFiles.add(
        await repo.store.saveUnpacked<IndexId>('index', encodeIndexFile(batch), signal),
      )
    }
    for (const id of oldIndexFiles) {
      if (!newIndexFiles.has(id)) await repo.backend.remove({ type: 'index', name: id }, { signal })
    }

    // (3) Packs that no index names any more.
    const doomed = [...plan.remove, ...plan.repack.map((r) => r.pack)]
    let removed = 0
    await forEachLimit(
      doomed,
      repo.backend.connections,
      async (id, sig) => {
        await repo.backend.remove({ type: 'data', name: id }, { signal: sig })
        opts.progress?.({ phase: 'remove', done: ++removed, total: doomed.length })
      },
      signal,
    )
    repo.invalidateIndex()
    return { plan, packsWritten: saver.stats.packs, spooledFilesRemoved }
  } finally {
    await lock.release()
  }
}
