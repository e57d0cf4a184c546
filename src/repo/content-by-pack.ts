import { IntegrityError } from '../errors.js'
import type { BlobLoader } from './blob-loader.js'
import type { BlobId, PackId } from './id.js'
import { plaintextLength, type BlobLocation } from './pack/index.js'
import { planPackReads, type CoalescingLimits, type PlannedRead } from './pack-read-coalescer.js'
import type { RangeSource, SealedTarget } from './workers/crypto-messages.js'

/** A file to fill: its content as the snapshot lists it. */
export interface ContentJob {
  readonly content: readonly BlobId[]
}

/** Where the blobs of the jobs go; called on the calling thread, one call at a time. */
export interface ContentSink<J extends ContentJob> {
  /**
   * `data` is the job's content from byte `offset`. Blobs arrive in the order of the packs
   * they are read from, not in the file's order; a blob a job lists twice comes twice.
   */
  write(job: J, offset: number, data: Buffer): void | Promise<void>
  /** Every blob of `job` has been written; `size` is its content's length. */
  finish(job: J, size: number): void | Promise<void>
  /**
   * For content that goes into files as it is: `path(job)` settles, once the file exists,
   * with the name of the file that `job`'s content goes into, at its offsets. Workers then
   * open the blobs and write them there themselves (nothing comes back to this thread), and
   * `wrote` is called instead of `write` (which still takes a blob loaded again after damage).
   */
  readonly files?: {
    path(job: J): Promise<Buffer>
    wrote(job: J, bytes: number): void
    /**
     * Whether the file of `job`, which has one blob, does not exist yet: the worker that
     * writes the blob creates it (O_EXCL). A blob loaded again after damage goes to `write`,
     * which must then create it.
     */
    createOnWrite?(job: J): boolean
  }
}

export interface ContentByPackOptions {
  /** Packs read at once (each in ranges of at most `maxRange` bytes, one after another). */
  readonly packs?: number
  readonly limits?: Pick<CoalescingLimits, 'maxGap' | 'maxRange'>
  readonly signal?: AbortSignal
}

/**
 * - packs 2 from a local directory, 4 from elsewhere: locally, two packs at once kept both
 *   crypto workers busy (a restore of the mounts data set, scale 0.2, took as long with 2, 4
 *   or 8, and 70 MB more memory per two more); on S3, four ranged GETs in flight hide most
 *   of a round trip.
 * - maxGap 1 MiB, maxRange 24 MiB: a restore wants most blobs of most packs, so nearly every
 *   pack is one read (restic's restorer also reads a pack's wanted blobs in one request). A
 *   pack is closed once past 16 MiB, so it holds at most 16 MiB plus one blob (≤ 8 MiB): the
 *   mounts data set's packs are 16.8–16.9 MB, two reads each with a 16 MiB bound.
 */
const LOCAL_PACKS = 2
const REMOTE_PACKS = 4
const DEFAULT_LIMITS = { maxGap: 1024 * 1024, maxRange: 24 * 1024 * 1024 }

interface Use<J> {
  readonly job: J
  readonly offset: number
}

/** One blob wanted from a pack, and every place it goes. */
interface Want<J> {
  readonly loc: BlobLocation
  readonly offset: number
  readonly length: number
  readonly uses: Use<J>[]
}

type PackRange<J> = PlannedRead<Want<J>>

/**
 * Reads the content of many files pack by pack, as restic's restorer does: every blob the
 * jobs need is looked up first, grouped by the pack holding it, and each pack is read once
 * (in as few ranged reads as its wanted blobs allow), its blobs opened and handed to `sink`
 * for every job and offset that lists them. A file's blobs may come from several packs in
 * any order; `finish` is called for a job once all of them came (at once for an empty one).
 *
 * Against reading file by file, blob by blob: one read per pack instead of one per blob, so
 * one open and one round trip instead of thousands (on S3, one GET instead of one per
 * file), and blobs shared by files or repeated within one are read once.
 *
 * Into files (`sink.files`): each range goes to a crypto worker, which opens its blobs and
 * writes them into the files itself; from a local directory it reads the pack too, into a
 * buffer it keeps. Nothing but the outcome comes back: this thread only plans and counts,
 * and the plaintext is never copied between threads (a restore of the mounts data set,
 * scale 0.2: 3.6–3.9 s where handing every blob back took 4.5–4.7 s, 26 % fewer page
 * faults).
 *
 * Damage: a blob that fails its checks, or whose range cannot be read, is loaded again
 * through `BlobLoader.load`, which tries every other copy the index knows; when none is
 * good the error is that load's and the whole call fails (nothing more is written).
 * Memory: `packs` ranges of at most `maxRange` bytes and their opened blobs.
 */
export async function readContentsByPack<J extends ContentJob>(
  blobs: BlobLoader,
  jobs: readonly J[],
  sink: ContentSink<J>,
  opts: ContentByPackOptions = {},
): Promise<void> {
  const signal = opts.signal
  const limits = opts.limits ?? DEFAULT_LIMITS
  const packs = new Map<PackId, Map<BlobId, Want<J>>>()
  const remaining = new Map<J, number>()
  const sizes = new Map<J, number>()
  const empty: J[] = []
  for (const job of jobs) {
    let offset = 0
    for (const id of job.content) {
      const loc = blobs.index.locations('data', id)[0]
      if (!loc) throw new IntegrityError('index', `data blob ${id.slice(0, 8)} is not in any pack`)
      let wanted = packs.get(loc.packId)
      if (!wanted) packs.set(loc.packId, (wanted = new Map<BlobId, Want<J>>()))
      let want = wanted.get(id)
      if (!want) {
        want = { loc, offset: loc.offset, length: loc.length, uses: [] }
        wanted.set(id, want)
      }
      want.uses.push({ job, offset })
      offset += plaintextLength(loc)
    }
    if (job.content.length === 0) empty.push(job)
    else remaining.set(job, (remaining.get(job) ?? 0) + job.content.length)
    sizes.set(job, offset)
  }
  for (const job of empty) await sink.finish(job, 0)

  const names = new Map<J, string>()

  /**
   * Hands `want` to each job that lists it, one sink call at a time (the sink may be
   * asynchronous and share state), and finishes the jobs it completes.
   */
  let sinkTurn: Promise<void> = Promise.resolve()
  const settle = (want: Want<J>, use: (u: Use<J>) => void | Promise<void>): Promise<void> => {
    const turn = sinkTurn.then(async () => {
      for (const u of want.uses) {
        signal?.throwIfAborted()
        await use(u)
        const left = remaining.get(u.job)! - 1
        remaining.set(u.job, left)
        if (left > 0) continue
        names.delete(u.job)
        await sink.finish(u.job, sizes.get(u.job)!)
      }
    })
    sinkTurn = turn.catch(() => undefined)
    return turn
  }
  const deliver = (want: Want<J>, data: Buffer): Promise<void> =>
    settle(want, (u) => sink.write(u.job, u.offset, data))

  /**
   * Into files: a worker writes the range's blobs where they go; here they are only counted
   * (`files.wrote`), unless one was damaged or unread and has to be loaded again.
   */
  const writeRange = async (
    files: NonNullable<ContentSink<J>['files']>,
    packId: PackId,
    range: PackRange<J>,
  ): Promise<void> => {
    const nameOf = async (job: J): Promise<string> => {
      let name = names.get(job)
      if (name === undefined) names.set(job, (name = (await files.path(job)).toString('latin1')))
      return name
    }
    const targets: SealedTarget[] = []
    for (const want of range.requests) {
      const to: SealedTarget['targets'][number][] = []
      for (const use of want.uses) {
        const path = await nameOf(use.job)
        if (files.createOnWrite?.(use.job) && use.job.content.length === 1)
          to.push({ path, position: use.offset, create: true })
        else to.push({ path, position: use.offset })
      }
      targets.push({
        offset: want.loc.offset - range.offset,
        length: want.loc.length,
        id: want.loc.id,
        uncompressedLength: want.loc.uncompressedLength,
        targets: to,
      })
    }
    const file = blobs.packFile(packId)
    let source: RangeSource | undefined
    if (file) source = { file, offset: range.offset, length: range.length }
    else source = await loadRange(packId, range).then((sealed) => sealed && { sealed })
    const outcome = source ? await blobs.repo.pool.writeRange(source, targets) : undefined
    if (outcome && 'writeFailed' in outcome) {
      const { message, code } = outcome.writeFailed
      throw Object.assign(new Error(message), code ? { code } : {})
    }
    for (let i = 0; i < range.requests.length; i++) {
      const want = range.requests[i]!
      if (outcome && 'results' in outcome && outcome.results[i] === null) {
        const n = plaintextLength(want.loc)
        await settle(want, (u) => files.wrote(u.job, n))
      }
      // Unread or damaged: loaded again from any copy (the error surfaces there).
      else await deliver(want, await blobs.load('data', want.loc.id, signal))
    }
  }

  /** The stored bytes of `range`, or undefined when they cannot be read. */
  const loadRange = async (packId: PackId, range: PackRange<J>): Promise<Buffer | undefined> => {
    try {
      return await blobs.repo.backend.load(
        { type: 'data', name: packId },
        { offset: range.offset, length: range.length, ...(signal ? { signal } : {}) },
      )
    } catch {
      if (signal?.aborted) throw signal.reason
      return undefined
    }
  }

  const openRange = async (packId: PackId, range: PackRange<J>): Promise<void> => {
    let bytes = await loadRange(packId, range)
    // The range goes to a worker whole (one transfer, no copy per blob), which opens all
    // its blobs; a damaged one is loaded again from any copy.
    const opened = bytes
      ? await blobs.openRange(
          packId,
          range.offset,
          bytes,
          range.requests.map((w) => w.loc),
        )
      : range.requests.map(() => undefined)
    bytes = undefined
    for (let i = 0; i < opened.length; i++) {
      const want = range.requests[i]!
      const plain = opened[i]
      await deliver(
        want,
        plain instanceof Buffer ? plain : await blobs.load('data', want.loc.id, signal),
      )
    }
  }

  const readPack = async (packId: PackId, wanted: Map<BlobId, Want<J>>): Promise<void> => {
    for (const range of planPackReads([...wanted.values()], limits)) {
      signal?.throwIfAborted()
      await (sink.files ? writeRange(sink.files, packId, range) : openRange(packId, range))
    }
  }

  // Packs in the order jobs first need them, so early jobs finish (and free their state) early.
  const queue = [...packs]
  const runners: Promise<void>[] = []
  let failure: { error: unknown } | undefined
  const runner = async (): Promise<void> => {
    for (let next = queue.shift(); next && !failure; next = queue.shift()) {
      try {
        await readPack(next[0], next[1])
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  for (
    let i = 0;
    i < Math.min(opts.packs ?? (blobs.local ? LOCAL_PACKS : REMOTE_PACKS), queue.length);
    i++
  )
    runners.push(runner())
  await Promise.all(runners)
  if (failure) throw failure.error
}
