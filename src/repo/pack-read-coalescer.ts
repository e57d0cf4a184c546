import { BackendError } from '../errors.js'
import { isNotFound, type Backend, type Handle } from './backend/index.js'
import type { PackId } from './id.js'
import { PackGapCache } from './pack-gap-cache.js'

/** When reads of one pack are merged into one backend read (see DEFAULT_COALESCING). */
export interface CoalescingLimits {
  /** Neighbouring requests at most this many bytes apart share a read (the gap is read too). */
  readonly maxGap: number
  /** A merged read spans at most this many bytes (a single larger request is read alone). */
  readonly maxRange: number
  /** Bytes read between requests, kept for requests soon after (see PackGapCache). */
  readonly gapCacheBytes: number
}

/**
 * - maxGap 512 KiB: reading a gap costs its transfer, a separate request a round trip: on S3
 *   tens of milliseconds, in which a connection moves megabytes; on loopback s3rver,
 *   milliseconds of CPU on both sides (signing, TLS, parsing). Restores ask for a gap's
 *   blobs a moment later (PackGapCache keeps them), so a wide gap costs them little;
 *   elsewhere (a partial restore) it bounds what a merged read carries that nobody asked
 *   for. Restoring the mounts data set (scale 0.05, 1,043 blob reads, 78 MB): about 590
 *   backend reads with no gap (78 MB), 394 with 256 KiB, 353 with 512 KiB, 335 with 1 MiB
 *   (81 MB each; 256 KiB without the gap cache: 438 reads, 96 MB, the gaps read twice).
 * - maxRange 8 MiB: bounds the memory of one read (a data blob is at most 8 MiB, the
 *   chunker's limit) and leaves a 16 MiB pack to several reads on several connections at
 *   once rather than one long transfer on one.
 * - gapCacheBytes 4 MiB: see PackGapCache; 2 MiB kept 155 of the gaps asked for later, 4 MiB
 *   204, 8 MiB little more.
 */
export const DEFAULT_COALESCING: CoalescingLimits = {
  maxGap: 512 * 1024,
  maxRange: 8 * 1024 * 1024,
  gapCacheBytes: 4 * 1024 * 1024,
}

/** A range of a pack to read and the requests it serves, in offset order. */
export interface PlannedRead<R> {
  readonly offset: number
  readonly length: number
  readonly requests: readonly R[]
}

/**
 * Merges requests of one pack into ranges: sorted by offset, a request joins the range before
 * it when the gap between them is at most `maxGap` and the range stays within `maxRange`.
 * Requests of the same bytes (a blob asked for twice) share a range. Pure; no I/O.
 */
export function planPackReads<R extends { readonly offset: number; readonly length: number }>(
  requests: readonly R[],
  limits: Pick<CoalescingLimits, 'maxGap' | 'maxRange'>,
): PlannedRead<R>[] {
  const sorted = [...requests].sort((a, b) => a.offset - b.offset)
  const plans: { offset: number; end: number; requests: R[] }[] = []
  for (const r of sorted) {
    const end = r.offset + r.length
    const last = plans.at(-1)
    if (
      last &&
      r.offset - last.end <= limits.maxGap &&
      Math.max(last.end, end) - last.offset <= limits.maxRange
    ) {
      last.end = Math.max(last.end, end)
      last.requests.push(r)
    } else {
      plans.push({ offset: r.offset, end, requests: [r] })
    }
  }
  return plans.map((p) => ({ offset: p.offset, length: p.end - p.offset, requests: p.requests }))
}

interface Request {
  readonly packId: PackId
  readonly offset: number
  readonly length: number
  readonly signal: AbortSignal | undefined
  readonly resolve: (b: Buffer) => void
  readonly reject: (e: unknown) => void
  /** Set once the request has its answer (bytes, error, or its own signal's reason). */
  settled: boolean
  /** The shared read it waits for, once one is under way. */
  read: SharedRead | undefined
}

/** The requests waiting under one signal, and the one listener watching it for them. */
interface Watch {
  readonly requests: Set<Request>
  readonly onAbort: () => void
}

/** A backend read in flight and the requests it will answer. */
interface SharedRead {
  readonly offset: number
  readonly end: number
  readonly controller: AbortController
  /** Its planned requests, then any that arrived later and lie within it. */
  readonly requests: Request[]
  /** Requests still waiting for its bytes. */
  waiting: number
}

/**
 * Reads byte ranges of pack files, merging requests of the same pack that are made close
 * together in time into one ranged backend read per run of neighbouring requests (restic
 * downloads a pack's wanted blobs in one request too, `internal/restorer/filerestorer.go`).
 *
 * A request waits for the next turn of the event loop (`setImmediate`): requests made in the
 * same turn (a restore's files, a file's blobs read ahead, a tree's subtrees) go out
 * together; none waits longer. A request for bytes that a read in flight brings anyway (a
 * gap) joins that read; one for bytes a read brought recently as a gap is answered from
 * PackGapCache. Holding new requests of a pack while one or two of its reads were in
 * flight, so that requests trickling in would leave together, was measured and dropped: a
 * restore made exactly as many reads (424 of 1,043 requests) with or without it.
 *
 * Contract:
 * - Each request gets exactly its bytes, as a view into the shared read's buffer: use or
 *   copy it at once (a kept view keeps the whole range, up to `maxRange`, in memory). A view
 *   never spans a whole ArrayBuffer that another request also sees, so a request may
 *   transfer its view's buffer to a worker (a copy is given out instead when it would).
 * - A failed read fails every request it serves with the backend's error, except a
 *   permanent failure other than a missing pack (a pack cut short, say): then each request
 *   is read alone, so that exactly the requests that would fail unmerged fail.
 * - A request whose signal aborts rejects at once with the signal's reason; the shared read
 *   goes on for the other requests and is aborted only when none is left.
 * - Requests with different signals, or none, share reads. Safe for any number of callers.
 */
export class PackReadCoalescer {
  /** Requests waiting for the next flush, per pack. */
  private queued = new Map<PackId, Request[]>()
  private flushScheduled = false
  /** Reads in flight per pack, which requests for bytes within them may join. */
  private readonly reading = new Map<PackId, Set<SharedRead>>()
  /**
   * One abort listener per signal, not per request: a restore's requests share its signal,
   * and dozens of listeners on one signal would also set off Node's leak warning.
   */
  private readonly watches = new Map<AbortSignal, Watch>()
  private readonly gaps: PackGapCache

  constructor(
    private readonly backend: Backend,
    private readonly limits: CoalescingLimits = DEFAULT_COALESCING,
  ) {
    this.gaps = new PackGapCache(limits.gapCacheBytes)
  }

  /** `length` bytes of pack `packId` from `offset` (see the class's contract). */
  read(packId: PackId, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    const kept = this.gaps.lookup(packId, offset, length)
    if (kept) return Promise.resolve(kept)
    return new Promise<Buffer>((resolve, reject) => {
      const req: Request = {
        packId,
        offset,
        length,
        signal,
        resolve,
        reject,
        settled: false,
        read: undefined,
      }
      if (signal) this.watch(signal, req)
      for (const read of this.reading.get(packId) ?? []) {
        // Not one whose requesters all left: it is aborted, its bytes will not come.
        if (offset >= read.offset && offset + length <= read.end && read.waiting > 0) {
          req.read = read
          read.requests.push(req)
          read.waiting++
          return
        }
      }
      const queue = this.queued.get(packId)
      if (queue) queue.push(req)
      else this.queued.set(packId, [req])
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Sends what was asked for since the last flush, merged per pack. */
  private flush(): void {
    this.flushScheduled = false
    const queued = this.queued
    this.queued = new Map()
    for (const [packId, requests] of queued) {
      for (const plan of planPackReads(requests, this.limits)) void this.readRange(packId, plan)
    }
  }

  /** Reads one planned range and answers its requests; never rejects. */
  private async readRange(packId: PackId, plan: PlannedRead<Request>): Promise<void> {
    const read: SharedRead = {
      offset: plan.offset,
      end: plan.offset + plan.length,
      controller: new AbortController(),
      requests: [...plan.requests],
      waiting: plan.requests.length,
    }
    for (const r of read.requests) r.read = read
    let reads = this.reading.get(packId)
    if (!reads) this.reading.set(packId, (reads = new Set()))
    reads.add(read)
    const h: Handle = { type: 'data', name: packId }
    try {
      const buf = await this.backend.load(h, {
        offset: plan.offset,
        length: plan.length,
        signal: read.controller.signal,
      })
      this.stopJoining(packId, read) // before any bytes are given out
      this.keepGaps(packId, read, buf)
      const shared = read.requests.length > 1
      for (const r of read.requests) {
        const start = r.offset - plan.offset
        const view = buf.subarray(start, start + r.length)
        this.settle(r, () => r.resolve(shared && ownsBuffer(view) ? Buffer.from(view) : view))
      }
    } catch (e) {
      this.stopJoining(packId, read)
      if (read.controller.signal.aborted) return // every requester left already
      const live = read.requests.filter((r) => !r.settled)
      if (live.length > 1 && splitOnFailure(e)) {
        for (const r of live) void this.readRange(packId, single(r))
      } else {
        for (const r of live) this.settle(r, () => r.reject(e))
      }
    }
  }

  private stopJoining(packId: PackId, read: SharedRead): void {
    const reads = this.reading.get(packId)
    reads?.delete(read)
    if (reads?.size === 0) this.reading.delete(packId)
  }

  /** Gives the bytes of `read` that no request of it asked for to the gap cache. */
  private keepGaps(packId: PackId, read: SharedRead, buf: Buffer): void {
    let pos = read.offset
    for (const r of [...read.requests].sort((a, b) => a.offset - b.offset)) {
      if (r.offset > pos)
        this.gaps.add(packId, pos, buf.subarray(pos - read.offset, r.offset - read.offset))
      pos = Math.max(pos, r.offset + r.length)
    }
  }

  private watch(signal: AbortSignal, req: Request): void {
    let w = this.watches.get(signal)
    if (!w) {
      const requests = new Set<Request>()
      const onAbort = (): void => {
        this.watches.delete(signal)
        for (const r of requests) this.abandon(r)
      }
      w = { requests, onAbort }
      this.watches.set(signal, w)
      signal.addEventListener('abort', onAbort, { once: true })
    }
    w.requests.add(req)
  }

  private unwatch(req: Request): void {
    const signal = req.signal
    const w = signal && this.watches.get(signal)
    if (!w) return
    w.requests.delete(req)
    if (w.requests.size > 0) return
    this.watches.delete(signal)
    signal.removeEventListener('abort', w.onAbort)
  }

  /** A request's signal aborted: it leaves the queue or its shared read. */
  private abandon(req: Request): void {
    if (req.settled) return
    const queue = this.queued.get(req.packId)
    const i = queue?.indexOf(req) ?? -1
    if (queue && i >= 0) queue.splice(i, 1)
    this.settle(req, () => req.reject(req.signal?.reason))
    const read = req.read
    if (read && read.waiting === 0) read.controller.abort(req.signal?.reason)
  }

  private settle(req: Request, answer: () => void): void {
    if (req.settled) return
    req.settled = true
    if (req.read) req.read.waiting--
    this.unwatch(req)
    answer()
  }
}

function single(r: Request): PlannedRead<Request> {
  return { offset: r.offset, length: r.length, requests: [r] }
}

/** True when `view` is its whole ArrayBuffer (what a worker transfer would take away). */
function ownsBuffer(view: Buffer): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
}

/**
 * Whether a failed merged read is retried request by request: for permanent errors other
 * than a missing pack, which may concern only part of the range (a pack cut short fails
 * only the blobs past its end when read alone). Transient errors were already retried by
 * the backend's retry wrapper and concern the whole request; a missing pack, every blob.
 */
function splitOnFailure(e: unknown): boolean {
  return e instanceof BackendError && e.permanent && !isNotFound(e)
}
