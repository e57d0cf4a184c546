/**
 * The row-level difference between a snapshot's table and the live one (docs/MYSQL.md,
 * "Patching a table in place"): both given as data-file lines (row-format.ts) in the order of
 * an integer primary key, walked side by side like a merge. A row of the snapshot missing or
 * different in the live table is to be written (its snapshot line kept); a live row whose key
 * the snapshot lacks is to be deleted (its key fields kept, as a data-file line).
 *
 * Data-file lines end in a newline byte and separate fields with a tab; both bytes are escaped
 * inside values, so they split lines and fields exactly. Integer keys are written as decimal
 * text by the server (`-` for negatives; ZEROFILL pads with zeros), compared here as numbers.
 */

const TAB = 0x09
const NEWLINE = 0x0a
const MINUS = 0x2d
const ZERO = 0x30

export interface RowDiff {
  /** Snapshot lines of the rows to write (each ends in a newline). */
  readonly writes: readonly Buffer[]
  readonly writeRows: number
  /** Key fields of the live rows to delete, one data-file line each. */
  readonly deletes: readonly Buffer[]
  readonly deleteRows: number
  /** Bytes held in `writes` and `deletes`. */
  readonly bytes: number
}

export interface RowDiffLimits {
  /** More changed rows than this (written plus deleted): give up (undefined). */
  readonly maxRows: number
  /** More bytes of changes than this: give up (undefined). */
  readonly maxBytes: number
}

/**
 * The difference between the snapshot's lines and the live ones. `keys` are the positions of
 * the primary key's columns among the fields, in key order. Undefined when the changes pass a
 * limit, or when either side is not in strictly ascending key order (then a row-level patch
 * cannot be trusted and the caller reloads the table). Both iterators are closed when it
 * returns early.
 */
export async function diffRows(
  snapshot: AsyncIterable<Uint8Array>,
  live: AsyncIterable<Uint8Array>,
  keys: readonly number[],
  limits: RowDiffLimits,
): Promise<RowDiff | undefined> {
  const a = new LineCursor(snapshot[Symbol.asyncIterator](), keys)
  const b = new LineCursor(live[Symbol.asyncIterator](), keys)
  const writes: Buffer[] = []
  const deletes: Buffer[] = []
  let bytes = 0
  let complete = false
  const over = (): boolean =>
    writes.length + deletes.length > limits.maxRows || bytes > limits.maxBytes
  try {
    let hasA = await a.advance()
    let hasB = await b.advance()
    while (hasA || hasB) {
      if (a.disordered || b.disordered) return undefined
      const order = !hasA ? 1 : !hasB ? -1 : compareKeys(a, b)
      const same = order === 0 && a.sameLine(b)
      if (same) {
        // Most rows are unchanged: the lines equal on both sides after these are passed over
        // at once, each cursor stopping at the last of them (equal too: no write).
        const run = a.equalRun(b)
        if (run > 0) {
          a.skip(run)
          b.skip(run)
          if (a.disordered || b.disordered) return undefined
        }
      } else if (order <= 0) {
        const line = a.line()
        writes.push(line)
        bytes += line.length
      }
      if (order > 0) {
        const key = b.keyLine()
        deletes.push(key)
        bytes += key.length
      }
      if (over()) return undefined
      if (order <= 0) {
        const r = a.advance()
        hasA = r === true || r === false ? r : await r
      }
      if (order >= 0) {
        const r = b.advance()
        hasB = r === true || r === false ? r : await r
      }
    }
    complete = true
    return { writes, writeRows: writes.length, deletes, deleteRows: deletes.length, bytes }
  } finally {
    if (!complete) await Promise.all([a.close(), b.close()])
  }
}

/**
 * Reads lines off a stream of chunks. The current line is `buf[start, end)` without its
 * newline. A line split between two chunks is joined into a buffer of its own; the rest of
 * the second chunk is read in place after it (`pending`). The key fields' values are kept as
 * numbers when they have at most 15 digits (exact in a double), which is nearly always: the
 * comparisons then never leave JavaScript. Longer ones are compared as text, for which the
 * previous line's key is kept (copied when the chunk changes).
 */
class LineCursor {
  private buf: Buffer = Buffer.alloc(0)
  private pending: Buffer | undefined
  private pos = 0
  private start = 0
  private end = 0
  private done = false
  private hasLine = false
  /** Start and end of each key field of the current line, in key order. */
  readonly fields: number[]
  /** Each key field's value, NaN when it is too long to be exact as a number. */
  readonly values: number[]
  /** The previous line's key: fields in `buf` (prevInBuf) or in the copy `prevKey`. */
  private prevKey: Buffer = Buffer.alloc(0)
  private readonly prevFields: number[]
  private readonly prevValues: number[]
  private hasPrev = false
  private prevInBuf = false
  disordered = false
  private readonly maxKey: number

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly keys: readonly number[],
  ) {
    this.fields = new Array<number>(keys.length * 2).fill(0)
    this.prevFields = new Array<number>(keys.length * 2).fill(0)
    this.values = new Array<number>(keys.length).fill(0)
    this.prevValues = new Array<number>(keys.length).fill(0)
    this.maxKey = Math.max(...keys)
  }

  get bytes(): Buffer {
    return this.buf
  }

  /** Moves to the next line: true, false at the end, or a promise when a chunk must be read. */
  advance(): boolean | Promise<boolean> {
    if (this.hasLine) this.rememberKey()
    let nl = this.buf.indexOf(NEWLINE, this.pos)
    if (nl >= 0) return this.take(nl)
    if (this.pending && this.pos === this.buf.length) {
      // The joined line is done: go on in the chunk it came from.
      if (this.hasPrev) this.detachPrevKey()
      this.buf = this.pending
      this.pending = undefined
      this.pos = 0
      nl = this.buf.indexOf(NEWLINE)
      if (nl >= 0) return this.take(nl)
    }
    return this.fill()
  }

  private async fill(): Promise<boolean> {
    // What is left of the buffer is the start of a split line; the previous key may be in
    // the buffer too. A producer may reuse a chunk once the next is asked for: copy both.
    if (this.hasPrev) this.detachPrevKey()
    let rest = this.pos < this.buf.length ? Buffer.from(this.buf.subarray(this.pos)) : undefined
    for (;;) {
      const r = await this.it.next()
      if (r.done) {
        this.done = true
        this.buf = Buffer.alloc(0)
        this.pos = 0
        if (rest) throw new Error('the data file does not end with a newline')
        return false
      }
      const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)
      const nl = chunk.indexOf(NEWLINE)
      if (nl < 0) {
        rest = rest ? Buffer.concat([rest, chunk]) : Buffer.from(chunk)
        continue
      }
      this.pos = 0
      if (!rest) {
        this.buf = chunk
        return this.take(nl)
      }
      this.buf = Buffer.concat([rest, chunk.subarray(0, nl + 1)])
      this.pending = chunk.subarray(nl + 1)
      return this.take(this.buf.length - 1)
    }
  }

  private take(nl: number): boolean {
    this.start = this.pos
    this.end = nl
    this.pos = nl + 1
    this.hasLine = true
    this.findKeyFields()
    if (this.hasPrev && this.compareWithPrev() >= 0) this.disordered = true
    return true
  }

  private compareWithPrev(): number {
    return compareKeyFields(
      this.prevValues,
      this.prevInBuf ? this.buf : this.prevKey,
      this.prevFields,
      this.values,
      this.buf,
      this.fields,
    )
  }

  private findKeyFields(): void {
    let fieldStart = this.start
    for (let col = 0; col <= this.maxKey; col++) {
      let fieldEnd = this.buf.indexOf(TAB, fieldStart)
      if (fieldEnd < 0 || fieldEnd > this.end) fieldEnd = this.end
      for (let k = 0; k < this.keys.length; k++)
        if (this.keys[k] === col) {
          this.fields[2 * k] = fieldStart
          this.fields[2 * k + 1] = fieldEnd
          this.values[k] = integerValue(this.buf, fieldStart, fieldEnd)
        }
      if (fieldEnd === this.end && col < this.maxKey) {
        // Fewer fields than the key needs: an empty field compares lowest and makes no sense
        // as an integer; call the stream out of order so that the table is reloaded.
        this.disordered = true
        return
      }
      fieldStart = fieldEnd + 1
    }
  }

  private rememberKey(): void {
    for (let i = 0; i < this.fields.length; i++) this.prevFields[i] = this.fields[i]!
    for (let i = 0; i < this.values.length; i++) this.prevValues[i] = this.values[i]!
    this.hasPrev = true
    this.prevInBuf = true
  }

  private detachPrevKey(): void {
    if (!this.prevInBuf) return
    // Only keys too long for a number are compared as text; the rest need no copy.
    if (this.prevValues.every((v) => v === v)) {
      this.prevInBuf = false
      return
    }
    const parts: Buffer[] = []
    let at = 0
    for (let i = 0; i < this.prevFields.length; i += 2) {
      const s = this.prevFields[i]!
      const e = this.prevFields[i + 1]!
      parts.push(Buffer.from(this.buf.subarray(s, e)))
      this.prevFields[i] = at
      this.prevFields[i + 1] = at + (e - s)
      at += e - s
    }
    this.prevKey = Buffer.concat(parts)
    this.prevInBuf = false
  }

  /**
   * Bytes after the current line, in both cursors' buffers, that are equal and end with a
   * newline: whole lines, the same on both sides.
   */
  equalRun(other: LineCursor): number {
    const n = Math.min(this.buf.length - this.pos, other.buf.length - other.pos)
    if (n === 0) return 0
    const p = commonPrefix(this.buf, this.pos, other.buf, other.pos, n)
    if (p === 0) return 0
    const nl = this.buf.lastIndexOf(NEWLINE, this.pos + p - 1)
    return nl < this.pos ? 0 : nl + 1 - this.pos
  }

  /**
   * Passes over `bytes` of whole lines after the current one (an equal run): the last of
   * them becomes the current line, its key checked against the current one's. The lines in
   * between are not looked at; being the same bytes as the live table's, in the server's key
   * order, they need no write, whatever they hold.
   */
  skip(bytes: number): void {
    this.rememberKey()
    const last = this.pos + bytes - 1
    const start = this.buf.lastIndexOf(NEWLINE, last - 1) + 1
    this.pos = Math.max(start, this.pos)
    this.take(last)
  }

  /** The current line with its newline, copied. */
  line(): Buffer {
    return Buffer.from(this.buf.subarray(this.start, this.end + 1))
  }

  /** The current line's key fields as a data-file line, copied. */
  keyLine(): Buffer {
    const parts: Buffer[] = []
    for (let k = 0; k < this.keys.length; k++) {
      if (k > 0) parts.push(TAB_BYTE)
      parts.push(this.buf.subarray(this.fields[2 * k], this.fields[2 * k + 1]))
    }
    parts.push(NEWLINE_BYTE)
    return Buffer.concat(parts)
  }

  sameLine(other: LineCursor): boolean {
    const n = this.end - this.start
    if (n !== other.end - other.start) return false
    // Short lines compare faster here than through Buffer.compare's argument checks.
    if (n > 256)
      return this.buf.compare(other.buf, other.start, other.end, this.start, this.end) === 0
    const a = this.buf
    const b = other.buf
    for (let i = 0, x = this.start, y = other.start; i < n; i++, x++, y++)
      if (a[x] !== b[y]) return false
    return true
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.()
    this.done = true
  }
}

/**
 * The length of the common prefix of `a[as, as + n)` and `b[bs, bs + n)`: compared natively
 * in blocks growing from 256 bytes, the first difference then narrowed down by halves.
 */
function commonPrefix(a: Buffer, as: number, b: Buffer, bs: number, n: number): number {
  let done = 0
  let block = 256
  while (done < n) {
    const k = Math.min(block, n - done)
    if (a.compare(b, bs + done, bs + done + k, as + done, as + done + k) === 0) {
      done += k
      if (block < 1 << 20) block *= 4
      continue
    }
    let lo = done
    let hi = done + k
    while (hi - lo > 64) {
      const mid = (lo + hi) >>> 1
      if (a.compare(b, bs + lo, bs + mid, as + lo, as + mid) === 0) lo = mid
      else hi = mid
    }
    // A difference lies in [lo, hi): the loop stops there.
    while (a[as + lo] === b[bs + lo]) lo++
    return lo
  }
  return n
}

const TAB_BYTE = Buffer.from([TAB])
const NEWLINE_BYTE = Buffer.from([NEWLINE])

function compareKeys(a: LineCursor, b: LineCursor): number {
  return compareKeyFields(a.values, a.bytes, a.fields, b.values, b.bytes, b.fields)
}

/**
 * Compares two keys field by field: as numbers where both values are (not NaN), else as the
 * decimal text of the fields, `[start, end)` pairs in `af` and `bf`.
 */
function compareKeyFields(
  av: readonly number[],
  a: Buffer,
  af: readonly number[],
  bv: readonly number[],
  b: Buffer,
  bf: readonly number[],
): number {
  for (let k = 0; k < av.length; k++) {
    const x = av[k]!
    const y = bv[k]!
    const c =
      x === x && y === y
        ? x < y
          ? -1
          : x > y
            ? 1
            : 0
        : compareIntegers(a, af[2 * k]!, af[2 * k + 1]!, b, bf[2 * k]!, bf[2 * k + 1]!)
    if (c !== 0) return c
  }
  return 0
}

/**
 * The value of a decimal integer field when it is exact as a number (at most 15 digits after
 * an optional `-`), else NaN (compared as text then). A field that is not a plain integer is
 * NaN too: compareIntegers then orders it by its bytes, and the order check catches disorder.
 */
function integerValue(buf: Buffer, s: number, e: number): number {
  const negative = e > s && buf[s] === MINUS
  let i = negative ? s + 1 : s
  if (i === e || e - i > 15) return NaN
  let v = 0
  for (; i < e; i++) {
    const d = buf[i]! - ZERO
    if (d < 0 || d > 9) return NaN
    v = v * 10 + d
  }
  return negative ? -v : v
}

/** Compares two integers written in decimal (optional `-`, leading zeros allowed). */
export function compareIntegers(
  a: Buffer,
  as: number,
  ae: number,
  b: Buffer,
  bs: number,
  be: number,
): number {
  const aNeg = ae > as && a[as] === MINUS
  const bNeg = be > bs && b[bs] === MINUS
  if (aNeg !== bNeg) return aNeg ? -1 : 1
  let i = aNeg ? as + 1 : as
  let j = bNeg ? bs + 1 : bs
  while (i < ae - 1 && a[i] === ZERO) i++
  while (j < be - 1 && b[j] === ZERO) j++
  let c = ae - i - (be - j)
  if (c === 0) c = a.compare(b, j, be, i, ae)
  if (c !== 0) c = c < 0 ? -1 : 1
  return aNeg ? -c : c
}
