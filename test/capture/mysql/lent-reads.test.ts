import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { lentReadSocket, type ReadLender } from '../../../src/capture/mysql/lent-read-socket.js'
import { LONG_MARKER, RowFeedCollector } from '../../../src/capture/mysql/row-feeds.js'
import { RowSocketReader } from '../../../src/capture/mysql/row-socket-reader.js'

/** A packet as the server frames it: 3-byte length, a sequence byte, the payload. */
function framed(payload: Buffer, seq: number): Buffer {
  const head = Buffer.alloc(4)
  head.writeUIntLE(payload.length, 0, 3)
  head[3] = seq & 0xff
  return Buffer.concat([head, payload])
}

/** mysql2's packet parser as the reader sees it; it keeps what it is given, uncopied. */
class KeepingParser {
  buffer: Buffer[] = []
  bufferLength = 0
  length = 0
  readonly packetHeaderLength = 4
  readonly largePacketParts: Buffer[] = []
  readonly got: Buffer[] = []
  executeStart(chunk: Buffer): null {
    this.got.push(chunk)
    return null
  }
  // The reader knows mysql2's parser state by which of its prototype's methods `execute` is.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  execute = this.executeStart
}

/** Small pseudo-random sizes, the same on every run. */
function sizes(seed: number, max: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return 1 + (s % max)
  }
}

/**
 * Feeds `stream` to a reader in reads of the given sizes, each one a view of one buffer that
 * is overwritten after the call, as a lent-read socket does (lent-read-socket.ts): a window
 * the reader kept without copying would then hold garbage.
 */
async function readLent(
  stream: Buffer,
  readSize: () => number,
): Promise<{ payloads: Buffer[]; fromSocket: number; handedBack: Buffer }> {
  const parser = new KeepingParser()
  const conn = { packetParser: parser as unknown as { execute(b: Buffer): unknown }, sequenceId: 0 }
  const collector = new RowFeedCollector(
    () => undefined,
    () => undefined,
  )
  const lender: ReadLender = { lending: false }
  const reader = new RowSocketReader(conn, collector, lender)
  reader.rowsStarted()
  expect(lender.lending).toBe(true)
  const shared = Buffer.alloc(32 << 20)
  for (let at = 0; at < stream.length;) {
    const n = Math.min(readSize(), stream.length - at, shared.length)
    stream.copy(shared, 0, at, at + n)
    const chunk = shared.subarray(0, n)
    conn.packetParser.execute(lender.lending ? chunk : Buffer.from(chunk))
    shared.fill(0xee, 0, n)
    at += n
  }
  expect(lender.lending).toBe(false)
  collector.end()
  const payloads: Buffer[] = []
  for (let f = await collector.next(); f; f = await collector.next())
    for (let p = 0; p < f.data.length;) {
      let length = f.data.readUIntLE(p, 3)
      let from = p + 4
      if (length === LONG_MARKER) {
        length = f.data.readUInt32LE(from)
        from += 4
      }
      payloads.push(Buffer.from(f.data.subarray(from, from + length)))
      p = from + length
    }
  return {
    payloads,
    fromSocket: collector.rowsReadFromSocket,
    handedBack: Buffer.concat(parser.got),
  }
}

/** Rows, the EOF packet that ends them, and an OK packet after it (the next command's). */
function resultStream(rows: readonly Buffer[]): { stream: Buffer; end: Buffer } {
  const packets: Buffer[] = []
  let seq = 3
  for (const r of rows) {
    // A payload of 16 MiB or more goes as full packets and a shorter last one.
    for (let at = 0; ; at += 0xffffff) {
      const part = r.subarray(at, at + 0xffffff)
      packets.push(framed(part, seq++))
      if (part.length < 0xffffff) break
    }
  }
  const end = Buffer.concat([
    framed(Buffer.from([0xfe, 0, 0, 2, 0]), seq++),
    framed(Buffer.from([0x00, 0, 0, 2, 0, 0, 0]), 1),
  ])
  return { stream: Buffer.concat([...packets, end]), end }
}

const row = (i: number): Buffer =>
  Buffer.from(`\u0005${String(i).padStart(5, '0')}${String.fromCharCode(i % 251)}`, 'latin1')

describe('rows read from lent socket reads', () => {
  it('keeps every row and hands the end back intact when each read is overwritten after use', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => row(i))
    const { stream, end } = resultStream(rows)
    // Reads of 1 to 40 bytes split headers, payloads and the end packet every possible way.
    const got = await readLent(stream, sizes(7, 40))
    expect(got.payloads).toEqual(rows)
    expect(got.fromSocket).toBe(rows.length)
    expect(got.handedBack.equals(end)).toBe(true)
  })

  it('keeps the parts of a row longer than one packet', async () => {
    const big = Buffer.alloc(0xffffff + 1000)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
    const rows = [row(1), big, row(2), Buffer.alloc(0xffffff, 0x61), row(3)]
    const { stream, end } = resultStream(rows)
    // The first read ends right after the long row's first packet, which is kept from it
    // until the row's last packet comes in the next read; then reads of up to 1 MiB.
    const first = [4 + rows[0]!.length + 4 + 0xffffff]
    const next = sizes(11, 1 << 20)
    const got = await readLent(stream, () => first.pop() ?? next())
    expect(got.payloads.length).toBe(rows.length)
    got.payloads.forEach((p, i) => expect(p.equals(rows[i]!)).toBe(true))
    expect(got.handedBack.equals(end)).toBe(true)
  })
})

describe('a lent-read socket', () => {
  it('lends its one buffer while the lender says so, and gives copies otherwise', async () => {
    const server = createServer((c) => {
      c.write(Buffer.alloc(100_000, 1))
      setTimeout(() => c.end(Buffer.alloc(100_000, 2)), 50)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const { port } = server.address() as AddressInfo
      for (const lending of [true, false]) {
        const socket = lentReadSocket({ host: '127.0.0.1', port }, { lending }, 64 * 1024)
        const reads: Buffer[] = []
        const contents: Buffer[] = []
        socket.on('data', (b: Buffer) => {
          reads.push(b)
          contents.push(Buffer.from(b))
        })
        await new Promise((r) => socket.on('end', r))
        socket.destroy()
        const all = Buffer.concat(contents)
        expect(
          all.equals(Buffer.concat([Buffer.alloc(100_000, 1), Buffer.alloc(100_000, 2)])),
        ).toBe(true)
        expect(reads.length).toBeGreaterThan(2)
        if (lending) expect(new Set(reads.map((b) => b.buffer)).size).toBe(1)
        // Copies still hold what they were given; the lent views were overwritten by later reads.
        expect(Buffer.concat(reads).equals(all)).toBe(!lending)
      }
    } finally {
      server.close()
    }
  })
})
