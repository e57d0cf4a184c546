import type { Backend } from './backend/index.js'
import type { PackId } from './id.js'
import type { MasterIndex } from './index/index.js'
import type { BlobLocation } from './pack/index.js'

/**
 * Reads tree blobs pack by pack: the first tree asked for from a pack reads the span holding
 * all of that pack's trees, and the other trees of the pack are then served from it. A walk
 * of a snapshot visits nearly every tree of the packs it touches, so one read per pack
 * replaces one per directory: on a local disk an open, a read and a close each (a plan of
 * 280 directories spent 100 ms of main-thread time on them), on an object store a request
 * each.
 *
 * Memory: spans are kept up to `budgetBytes` in all (oldest dropped first; 0: trees are read
 * one by one); a span larger than `maxSpanBytes` or the budget, or one where trees are less than half of the bytes (a pack that also
 * holds data, as no writer we know makes), is not read whole: its trees are read one by one.
 */
export class TreePackReads {
  private readonly spans = new Map<PackId, { bytes: Promise<Span>; size: number }>()
  private held = 0

  constructor(
    private readonly backend: Backend,
    private readonly index: MasterIndex,
    private readonly budgetBytes = 32 * 1024 * 1024,
    private readonly maxSpanBytes = 16 * 1024 * 1024,
  ) {}

  /**
   * The stored (sealed) bytes of tree blob `loc`, a view into its pack's span; undefined when
   * the pack's trees are read one by one (see the class). Errors are the backend's.
   */
  async sealed(loc: BlobLocation, signal?: AbortSignal): Promise<Buffer | undefined> {
    let entry = this.spans.get(loc.packId)
    if (!entry) {
      const plan = this.planSpan(loc.packId)
      if (!plan) return undefined
      const bytes = this.backend
        .load({ type: 'data', name: loc.packId }, { ...plan, ...(signal ? { signal } : {}) })
        .then((b) => ({ offset: plan.offset, bytes: b }))
      entry = { bytes, size: plan.length }
      this.spans.set(loc.packId, entry)
      this.held += plan.length
      this.evict(loc.packId)
      // A failed read is not kept: the next tree of the pack tries again.
      bytes.catch(() => {
        if (this.spans.get(loc.packId) === entry) {
          this.spans.delete(loc.packId)
          this.held -= entry!.size
        }
      })
    }
    const span = await entry.bytes
    const start = loc.offset - span.offset
    if (start < 0 || start + loc.length > span.bytes.length) return undefined
    return span.bytes.subarray(start, start + loc.length)
  }

  /** The range holding all trees of `packId`, when it is worth reading whole. */
  private planSpan(packId: PackId): { offset: number; length: number } | undefined {
    const entries = this.index.packs().get(packId)
    if (!entries) return undefined
    let start = Infinity
    let end = 0
    let trees = 0
    let treeBytes = 0
    for (const e of entries) {
      if (e.type !== 'tree') continue
      trees++
      treeBytes += e.length
      start = Math.min(start, e.offset)
      end = Math.max(end, e.offset + e.length)
    }
    const length = end - start
    if (trees < 2 || treeBytes * 2 < length) return undefined
    if (length > Math.min(this.maxSpanBytes, this.budgetBytes)) return undefined
    return { offset: start, length }
  }

  /** Drops the oldest spans (never `keep`) until the budget holds. */
  private evict(keep: PackId): void {
    for (const [id, e] of this.spans) {
      if (this.held <= this.budgetBytes) return
      if (id === keep) continue
      this.spans.delete(id)
      this.held -= e.size
    }
  }
}

interface Span {
  readonly offset: number
  readonly bytes: Buffer
}
