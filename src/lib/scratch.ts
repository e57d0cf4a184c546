/**
 * A buffer a thread reuses for bytes it uses at once and does not keep: a pack's range being
 * opened, a blob's plaintext written straight into a file or only checked, a compressed blob
 * about to be sealed (which copies it). A fresh buffer of a blob's or a range's size each
 * time costs a page fault per 4 KiB on first touch (allocations of that size are mapped anew
 * each time), which a restore of a gigabyte feels.
 */
export class Scratch {
  private buf = Buffer.alloc(0)

  /**
   * `length` bytes of the buffer, valid until the next `take`. It grows with a quarter's
   * headroom: ranges and blobs of nearly equal sizes (packs of 16.8 and 16.9 MB) would
   * otherwise replace it at every slightly larger one.
   */
  take(length: number): Buffer {
    if (this.buf.length < length) this.buf = Buffer.allocUnsafeSlow(Math.ceil(length * 1.25))
    return this.buf.subarray(0, length)
  }
}
