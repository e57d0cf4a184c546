/**
 * Buffers given back by the thread that took them (chunks once sealed, lines once read),
 * handed out again for the next chunks: memory written for the first time costs a page
 * fault per 4 KiB, which on this project's machines costs more than the copy into it, and
 * buffers let go wait for a full collection of their thread's heap (V8 runs one per 64 MB
 * of external memory) before their memory is free. Bounded by bytes, not count: spares
 * stay mapped while the thread idles or serves other work (a mount's large files are
 * chunked early in an environment's snapshot, its database long after).
 */
export class SpareBuffers {
  private readonly spares: ArrayBuffer[] = []
  private kept = 0

  /**
   * `maxBytes`: the most kept at once. `step`: new buffers are whole multiples of it, so
   * that one fits most later uses.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly step = 1024 * 1024,
  ) {}

  /** A view of `length` bytes at the start of the smallest spare that fits, or of a new one. */
  take(length: number): Uint8Array {
    let best = -1
    for (let i = 0; i < this.spares.length; i++) {
      const size = this.spares[i]!.byteLength
      if (size >= length && (best < 0 || size < this.spares[best]!.byteLength)) best = i
    }
    if (best >= 0) {
      const b = this.spares.splice(best, 1)[0]!
      this.kept -= b.byteLength
      return new Uint8Array(b, 0, length)
    }
    return new Uint8Array(new ArrayBuffer(Math.ceil(length / this.step) * this.step), 0, length)
  }

  /** Keeps `b` for a later `take`; beyond `maxBytes`, the largest kept are let go. */
  keep(b: ArrayBuffer): void {
    if (b.byteLength === 0) return
    this.spares.push(b)
    this.kept += b.byteLength
    while (this.kept > this.maxBytes) {
      // The smaller ones serve most uses (a chunk is about 1 MiB on average, 8 at most).
      let largest = 0
      for (let i = 1; i < this.spares.length; i++)
        if (this.spares[i]!.byteLength > this.spares[largest]!.byteLength) largest = i
      this.kept -= this.spares.splice(largest, 1)[0]!.byteLength
    }
  }

  /** How many buffers are kept, and their bytes. */
  get size(): { readonly count: number; readonly bytes: number } {
    return { count: this.spares.length, bytes: this.kept }
  }
}
