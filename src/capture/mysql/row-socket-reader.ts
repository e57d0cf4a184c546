import type { ReadLender } from './lent-read-socket.js'
import type { RowFeedCollector } from './row-feeds.js'

/**
 * Reads the rows of a result set straight from the connection's socket reads, past mysql2.
 *
 * mysql2 handles each row packet through its connection and command objects (sequence
 * check, state dispatch, an event): a few hundred nanoseconds per row, seconds per million
 * rows, on the thread that also reads the socket. Once the first row has come through mysql2
 * (so the result set's header and column definitions are behind), this reader takes the
 * connection's packet parser's place: it walks the packets of each read itself, hands the
 * rows to the collector a whole read at a time, and gives the parser back at the packet
 * that ends the rows (EOF/OK or an error), which mysql2 then handles as usual.
 *
 * It relies on mysql2 3.x internals: `connection.packetParser` (whose `execute` the socket's
 * data handler calls), the parser's partial-packet state, and `connection.sequenceId`. When
 * they are not as expected, or while the parser is in a state this reader does not know, the
 * rows go through mysql2 as before. test/capture/mysql/row-packets.test.ts checks that rows
 * are read here.
 *
 * With a `lender` (lent-read-socket.ts), the socket's reads are lent while this reader is in
 * place: each is a view of a buffer the next read overwrites. Rows are copied into feeds as
 * they are walked; the rest of what outlives a call (a packet's start carried to the next
 * read, the parts of a long row, what is handed back to mysql2's parser) is copied here.
 */

/** mysql2's PacketParser, as far as this reader uses it. */
interface PacketParser {
  execute(chunk: Buffer): unknown
  buffer: Buffer[]
  bufferLength: number
  length: number
  readonly packetHeaderLength: number
  readonly largePacketParts: readonly Buffer[]
}

/** mysql2's connection, as far as this reader uses it. */
interface ParsedConnection {
  packetParser: PacketParser
  sequenceId: number
}

const MAX_PAYLOAD = 0xffffff

export class RowSocketReader {
  private readonly conn: ParsedConnection | undefined
  private readonly parser: PacketParser | undefined
  private installed = false
  private reading = false
  private done = false
  /** Bytes of a packet begun in an earlier read (header included). */
  private carry: Buffer[] = []
  private carryLength = 0
  /** Payloads of a row sent as several packets (16 MiB or more), until its last packet. */
  private large: Buffer[] = []
  /** The read being handled is lent: what is kept of it past the call must be copied. */
  private lent = false

  constructor(
    connection: unknown,
    private readonly feeds: RowFeedCollector,
    private readonly lender?: ReadLender,
  ) {
    const c = connection as Partial<ParsedConnection> | undefined
    const p = c?.packetParser
    const usable =
      p !== undefined &&
      typeof p.execute === 'function' &&
      p.packetHeaderLength === 4 &&
      Array.isArray(p.buffer) &&
      Array.isArray(p.largePacketParts) &&
      typeof c?.sequenceId === 'number'
    this.conn = usable ? (c as ParsedConnection) : undefined
    this.parser = usable ? p : undefined
  }

  /** The first row came through mysql2: read the following ones from the socket. */
  rowsStarted(): void {
    if (this.installed || this.done || !this.conn) return
    this.installed = true
    // The socket's data handler calls `packetParser.execute` and nothing else of it.
    this.conn.packetParser = { execute: (chunk: Buffer) => this.execute(chunk) } as PacketParser
    if (this.lender) this.lender.lending = true
  }

  /** The query ended (or failed): mysql2's parser is back in place. */
  finished(): void {
    this.done = true
    this.restore()
  }

  private restore(): void {
    if (this.installed && this.conn) this.conn.packetParser = this.parser!
    if (this.installed && this.lender) this.lender.lending = false
    this.installed = false
    this.reading = false
  }

  /** `b` itself, or a copy when it is a window of a lent read (it is kept past the call). */
  private kept(b: Buffer): Buffer {
    return this.lent ? Buffer.from(b) : b
  }

  private execute(chunk: Buffer): unknown {
    const parser = this.parser!
    this.lent = this.lender?.lending === true
    if (!this.reading) {
      if (!this.takePartial(parser)) return parser.execute(this.kept(chunk))
      this.reading = true
    }
    let from = 0
    if (this.carryLength > 0) {
      from = this.completeCarry(chunk)
      if (from < 0) return null
      const packet = Buffer.concat(this.carry, this.carryLength)
      this.carry = []
      this.carryLength = 0
      const end = this.walk(packet, 0)
      if (end < 0) return this.handBack(packet.subarray(-end - 1), this.kept(chunk.subarray(from)))
    }
    const end = this.walk(chunk, from)
    if (end < 0) return this.handBack(this.kept(chunk.subarray(-end - 1)))
    if (end < chunk.length) {
      this.carry = [this.kept(chunk.subarray(end))]
      this.carryLength = chunk.length - end
    }
    return null
  }

  /**
   * Takes over the parser's partial packet, if any, as the carry; false when the parser is
   * in a state this reader does not know (then it keeps parsing this read).
   */
  private takePartial(p: PacketParser): boolean {
    if (p.largePacketParts.length > 0) return false
    const proto = Object.getPrototypeOf(p) as Record<string, unknown>
    const length = p.length
    let head: Buffer
    switch (p.execute) {
      case proto.executeStart:
        return true
      case proto.executeHeader2:
        head = Buffer.from([length & 0xff])
        break
      case proto.executeHeader3:
        head = Buffer.from([length & 0xff, (length >> 8) & 0xff])
        break
      case proto.executePayload:
        head = Buffer.from([length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff])
        break
      default:
        return false
    }
    // mysql2 keeps a payload's bytes from the sequence byte on.
    this.carry = [head, ...p.buffer]
    this.carryLength = this.carry.reduce((n, b) => n + b.length, 0)
    p.buffer = []
    p.bufferLength = 0
    p.execute = proto.executeStart as PacketParser['execute']
    return true
  }

  /**
   * Adds to the carry what the packet it begins needs from `chunk`; returns where the rest
   * of `chunk` starts, or -1 when the packet needs more reads.
   */
  private completeCarry(chunk: Buffer): number {
    let used = 0
    if (this.carryLength < 4) {
      used = Math.min(4 - this.carryLength, chunk.length)
      this.carry.push(this.kept(chunk.subarray(0, used)))
      this.carryLength += used
      if (this.carryLength < 4) return -1
    }
    const head = Buffer.concat(this.carry, 4)
    const total = 4 + head.readUIntLE(0, 3)
    const need = Math.min(total - this.carryLength, chunk.length - used)
    this.carry.push(this.kept(chunk.subarray(used, used + need)))
    this.carryLength += need
    return this.carryLength < total ? -1 : used + need
  }

  /**
   * Walks the whole packets of `buf` from `from`: rows go to the collector, as one run for
   * those back to back. Returns where an incomplete packet starts (buf.length when none),
   * or -(p + 1) when the packet at p ends the rows.
   */
  private walk(buf: Buffer, from: number): number {
    let p = from
    let runStart = from
    let rows = 0
    const feeds = this.feeds
    while (buf.length - p >= 4) {
      const length = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16)
      const end = p + 4 + length
      if (end > buf.length) break
      if (this.large.length > 0 || length === MAX_PAYLOAD) {
        // A part of a row of 16 MiB or more: its payload is put together from its packets.
        if (rows > 0) feeds.addRun(buf, runStart, p, rows)
        rows = 0
        this.large.push(this.kept(buf.subarray(p + 4, end)))
        if (length < MAX_PAYLOAD) {
          const row = Buffer.concat(this.large)
          this.large = []
          feeds.addPayload(row, 0, row.length)
        }
        p = end
        runStart = p
        continue
      }
      const first = buf[p + 4]
      // mysql2's own tests: an error packet, or EOF / the OK packet that replaces it.
      if (first === 0xff || (first === 0xfe && length < 13)) {
        if (rows > 0) feeds.addRun(buf, runStart, p, rows)
        this.conn!.sequenceId = buf[p + 3]!
        return -(p + 1)
      }
      rows++
      p = end
    }
    if (rows > 0) feeds.addRun(buf, runStart, p, rows)
    return p
  }

  /** Gives the parser back, with the packets from the one that ends the rows on. */
  private handBack(...rest: Buffer[]): unknown {
    this.restore()
    this.done = true
    let r: unknown = null
    for (const b of rest) if (b.length > 0) r = this.parser!.execute(b)
    return r
  }
}
