import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { RowFeedEncoder } from '../../../src/capture/mysql/row-format-encoder.js'
import {
  FEED_BYTES,
  LONG_MARKER,
  RowFeedCollector,
  type PacketWindow,
} from '../../../src/capture/mysql/row-feeds.js'
import {
  rowEncoders,
  type EncodedCount,
  type RowFeedSource,
} from '../../../src/capture/mysql/row-encoders.js'
import {
  ChunkAssembler,
  GearChunker,
  hashId,
  parsePolynomial,
  type HashedChunk,
} from '../../../src/repo/index.js'
import { openSession, type MysqlSession } from '../../../src/capture/mysql/session.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { MYSQL_URL } from './mysql-harness.js'

/** 300,000 rows of a server-side sequence, and the data-file lines they encode to. */
const SEQ_ROWS = ((): { sql: string; wantBytes: Buffer } => {
  let want = ''
  for (let i = 1; i <= 300_000; i++)
    want += `${i}\t${String.fromCharCode(65 + (i % 26)).repeat(i % 97)}\n`
  return {
    sql: 'SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 97) FROM test.seq_1_to_300000',
    wantBytes: Buffer.from(want),
  }
})()

/** A length-coded string of the text protocol, with the marker a server would choose. */
function lengthCoded(v: Buffer | null): Buffer {
  if (v === null) return Buffer.from([0xfb])
  const n = v.length
  let head: Buffer
  if (n < 0xfb) head = Buffer.from([n])
  else if (n < 0x10000) head = Buffer.from([0xfc, n & 0xff, n >> 8])
  else if (n < 0x1000000) head = Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16])
  else {
    head = Buffer.alloc(9)
    head[0] = 0xfe
    head.writeUInt32LE(n, 1)
  }
  return Buffer.concat([head, v])
}

/** A packet as the server frames it: 3-byte length, a sequence byte, the payload. */
function framed(payload: Buffer, seq = 7): Buffer {
  const head = Buffer.alloc(4)
  head.writeUIntLE(payload.length, 0, 3)
  head[3] = seq
  return Buffer.concat([head, payload])
}

/** The data-file line of `fields`, written byte by byte the obvious way (docs/FORMAT.md). */
function expectedLine(fields: readonly (Buffer | null)[]): Buffer {
  const escape = new Map([
    [0x5c, 0x5c],
    [9, 0x74],
    [10, 0x6e],
    [13, 0x72],
    [0, 0x30],
  ])
  const out = Buffer.alloc(fields.reduce((n, f) => n + 3 + 2 * (f?.length ?? 0), 1))
  let at = 0
  const push = (...bytes: number[]): void => {
    for (const b of bytes) out[at++] = b
  }
  fields.forEach((f, i) => {
    if (i > 0) push(9)
    if (f === null) push(0x5c, 0x4e)
    else
      for (const b of f) {
        const e = escape.get(b)
        if (e === undefined) push(b)
        else push(0x5c, e)
      }
  })
  push(10)
  return out.subarray(0, at)
}

const encoder = new RowFeedEncoder()
/** The lines of `feed`, copied out of the encoder's memory. */
const encode = (feed: Buffer): Buffer => Buffer.from(encoder.encode(feed).lines)

/** Collects a collector's feeds (it is ended first), recycling none. */
async function feedsOf(c: RowFeedCollector): Promise<{ data: Buffer; rows: number }[]> {
  const out: { data: Buffer; rows: number }[] = []
  for (let f = await c.next(); f; f = await c.next())
    out.push({ data: Buffer.from(f.data), rows: f.rows })
  return out
}

/** The payloads of feeds, decoded back from their frames. */
function payloads(feeds: readonly { data: Buffer }[]): Buffer[] {
  const out: Buffer[] = []
  for (const { data } of feeds)
    for (let p = 0; p < data.length;) {
      let length = data.readUIntLE(p, 3)
      let from = p + 4
      if (length === LONG_MARKER) {
        length = data.readUInt32LE(from)
        from += 4
      }
      out.push(data.subarray(from, from + length))
      p = from + length
    }
  return out
}

async function linesOf(
  source: RowFeedSource,
): Promise<{ lines: Buffer; count: { rows: number; bytes: number; sha256: string } }> {
  const count = { rows: 0, bytes: 0, sha256: '' }
  const got: Buffer[] = []
  for await (const c of rowEncoders().encode(source, count, true)) got.push(Buffer.from(c))
  return { lines: Buffer.concat(got), count }
}

async function withSession<T>(fn: (s: MysqlSession) => Promise<T>): Promise<T> {
  const s = await openSession({ ...parseMysqlUrl(MYSQL_URL), connections: 1 })
  try {
    return await fn(s)
  } finally {
    s.destroy()
  }
}

describe('row packets to data-file lines', () => {
  it('reads every length marker, NULL and empty, and escapes the five special bytes', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const fields = [
      null,
      Buffer.alloc(0),
      Buffer.from('plain'),
      every,
      Buffer.alloc(250, 0x5c),
      Buffer.alloc(251, 0x41),
      Buffer.alloc(0xffff, 0x09),
      Buffer.alloc(0x10000, 0x42),
      Buffer.alloc(0x1000000, 0x0a),
      null,
    ]
    const packet = Buffer.concat(fields.map(lengthCoded))
    // The big row is longer than a 3-byte length: framed with the long marker, as the
    // collector frames a row mysql2 put together from several packets.
    const long = Buffer.alloc(8)
    long.writeUIntLE(LONG_MARKER, 0, 3)
    long.writeUInt32LE(packet.length, 4)
    const feed = Buffer.concat([long, packet, framed(lengthCoded(null))])
    expect(encode(feed).equals(Buffer.concat([expectedLine(fields), Buffer.from('\\N\n')]))).toBe(
      true,
    )
  })

  it('refuses a packet whose field runs past its end or has an unknown marker, and a cut frame', () => {
    const row = (bytes: number[]): Buffer => Buffer.from(bytes)
    expect(() => encode(framed(row([5, 0x61, 0x62])))).toThrow(/runs past its end/)
    // The field's bytes are in the feed but beyond the packet's end (in the next packet).
    expect(() => encode(Buffer.concat([framed(row([2, 0x61])), framed(row([1, 0x62]))]))).toThrow(
      /runs past its end/,
    )
    expect(() => encode(framed(row([0xff, 0x00])))).toThrow(/marker 0xff/)
    expect(() => encode(framed(row([0xfe, 1, 0, 0])))).toThrow(/runs past its end/)
    expect(() => encode(framed(row([1, 0x61])).subarray(0, 5))).toThrow(/malformed row feed/)
    expect(() => encode(Buffer.from([1, 0]))).toThrow(/malformed row feed/)
  })

  it('gives back the memory a huge row needed once the next ordinary feed comes', () => {
    const own = new RowFeedEncoder()
    const small = framed(Buffer.concat([lengthCoded(Buffer.from('a\tb')), lengthCoded(null)]))
    expect(Buffer.from(own.encode(small).lines).toString()).toBe('a\\tb\t\\N\n')
    const before = own.memoryBytes
    const blob = Buffer.alloc(24 * 1024 * 1024, 0x41)
    const long = Buffer.alloc(8)
    long.writeUIntLE(LONG_MARKER, 0, 3)
    const packet = lengthCoded(blob)
    long.writeUInt32LE(packet.length, 4)
    const huge = own.encode(Buffer.concat([long, packet]))
    expect(huge.rows).toBe(1)
    expect(huge.lines.length).toBe(blob.length + 1)
    expect(own.memoryBytes).toBeGreaterThan(64 * 1024 * 1024)
    expect(Buffer.from(own.encode(small).lines).toString()).toBe('a\\tb\t\\N\n')
    expect(own.memoryBytes).toBe(before)
  })

  it('encodes random rows exactly as written byte by byte, whatever their lengths and bytes', () => {
    // Fields of every length around the 16-byte steps, bytes drawn mostly from those to escape
    // or mostly plain, NULLs, and feeds of a few rows to many: each feed is encoded after a
    // larger one, so the memory beyond it holds stale bytes that must not show through.
    let seed = 7
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const special = [0x5c, 0x09, 0x0a, 0x0d, 0x00]
    const field = (): Buffer | null => {
      if (random(12) === 0) return null
      const length = random(4) === 0 ? random(600) : random(40)
      const dense = random(3) === 0
      return Buffer.from(
        Array.from({ length }, () =>
          random(dense ? 2 : 20) === 0 ? special[random(5)]! : 0x20 + random(200),
        ),
      )
    }
    for (let round = 0; round < 300; round++) {
      const rows = Array.from({ length: 1 + random(round % 2 === 0 ? 4 : 200) }, () =>
        Array.from({ length: 1 + random(12) }, field),
      )
      const feed = Buffer.concat(rows.map((r) => framed(Buffer.concat(r.map(lengthCoded)))))
      const got = encoder.encode(feed)
      expect(got.rows).toBe(rows.length)
      expect(Buffer.from(got.lines).equals(Buffer.concat(rows.map(expectedLine)))).toBe(true)
    }
  })
})

describe('row feeds', () => {
  it('copies runs of back-to-back packets whole and frames the others, in order', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) =>
      Buffer.concat([
        lengthCoded(Buffer.from(String(i))),
        lengthCoded(i % 7 ? Buffer.alloc(i % 300, 0x61) : null),
      ]),
    )
    // Three socket reads: packets back to back, as mysql2 windows them; then a packet put
    // together from two reads (its own buffer, header included); then a row of 16 MiB
    // joined from several packets (no header in its buffer).
    const read1 = Buffer.concat(rows.slice(0, 3000).map((r, i) => framed(r, i & 0xff)))
    const read2 = Buffer.concat(rows.slice(3001).map((r) => framed(r)))
    const big = Buffer.concat([lengthCoded(Buffer.alloc(LONG_MARKER + 10, 0x62))])
    const windows: PacketWindow[] = []
    const walk = (buffer: Buffer): void => {
      for (let p = 0; p < buffer.length;) {
        const end = p + 4 + buffer.readUIntLE(p, 3)
        windows.push({ buffer, start: p, offset: p + 4, end })
        p = end
      }
    }
    walk(read1)
    const joined = framed(rows[3000]!)
    joined.fill(0xee, 0, 3)
    windows.push({ buffer: joined, start: 0, offset: 4, end: joined.length })
    windows.push({ buffer: big, start: 0, offset: 0, end: big.length })
    walk(read2)
    let pauses = 0
    let resumes = 0
    const c = new RowFeedCollector(
      () => pauses++,
      () => resumes++,
    )
    for (const w of windows) c.add(w)
    c.end()
    // More than two feeds were ready before any was taken: the connection was paused once.
    expect(pauses).toBe(1)
    const feeds = await feedsOf(c)
    expect(resumes).toBe(1)
    expect(feeds.reduce((n, f) => n + f.rows, 0)).toBe(5001)
    // Feeds are filled to about a MiB, but for the one cut short by the big row and the last.
    const short = feeds.filter((f) => f.data.length < FEED_BYTES - 400)
    expect(short.length).toBe(2)
    expect(short[1]).toBe(feeds.at(-1))
    const want = [...rows.slice(0, 3001), big, ...rows.slice(3001)]
    const got = payloads(feeds)
    expect(got.length).toBe(want.length)
    got.forEach((p, i) => expect(p.equals(want[i]!), `row ${i}`).toBe(true))
  })

  it('drops packets after discard and resumes a paused connection', async () => {
    let paused = false
    const c = new RowFeedCollector(
      () => (paused = true),
      () => (paused = false),
    )
    const payload = lengthCoded(Buffer.alloc(200_000, 0x63))
    for (let i = 0; i < 20; i++) {
      const b = framed(payload)
      c.add({ buffer: b, start: 0, offset: 4, end: b.length })
    }
    expect(paused).toBe(true)
    c.discard()
    expect(paused).toBe(false)
    c.add({ buffer: framed(payload), start: 0, offset: 4, end: payload.length + 4 })
    c.end()
    expect(await c.next()).toBeUndefined()
  })

  it("fills the next query's feeds in the buffers an ended query gave back", async () => {
    const payload = lengthCoded(Buffer.alloc(300_000, 0x64))
    const fill = (c: RowFeedCollector, rows: number): void => {
      for (let i = 0; i < rows; i++) {
        const b = framed(payload)
        c.add({ buffer: b, start: 0, offset: 4, end: b.length })
      }
      c.end()
    }
    const first = new RowFeedCollector(
      () => undefined,
      () => undefined,
    )
    fill(first, 12)
    const used = new Set<ArrayBufferLike>()
    for (let f = await first.next(); f; f = await first.next()) {
      used.add(f.data.buffer)
      // As the encoders give a feed back, at its full length.
      first.recycle(Buffer.from(f.data.buffer, 0, FEED_BYTES))
    }
    expect(used.size).toBeGreaterThan(2)
    const second = new RowFeedCollector(
      () => undefined,
      () => undefined,
    )
    fill(second, 12)
    const payloadsSecond: Buffer[] = []
    for (let f = await second.next(); f; f = await second.next()) {
      expect(used.has(f.data.buffer)).toBe(true)
      payloadsSecond.push(...payloads([f]))
    }
    expect(payloadsSecond.length).toBe(12)
    for (const p of payloadsSecond) expect(p.equals(payload)).toBe(true)
  })
})

describe('rows from the server, encoded on the encoder threads', () => {
  it('gets the packets mysql2 receives, for values of every length class', async () => {
    const { lines, count } = await withSession((s) =>
      linesOf(
        s.stream(
          "SELECT NULL, '', 'a\\tb\\nc\\\\d\\re', CAST(X'00FF0A' AS BINARY), REPEAT('x', 300), " +
            "REPEAT('y', 70000), 12.50, CAST('2024-02-29 10:00:00' AS DATETIME) UNION ALL " +
            "SELECT 'row 2', NULL, NULL, NULL, NULL, NULL, NULL, NULL",
          new AbortController().signal,
        ),
      ),
    )
    const want = Buffer.concat([
      expectedLine([
        null,
        Buffer.alloc(0),
        Buffer.from('a\tb\nc\\d\re'),
        Buffer.from([0, 0xff, 0x0a]),
        Buffer.alloc(300, 'x'),
        Buffer.alloc(70000, 'y'),
        Buffer.from('12.50'),
        Buffer.from('2024-02-29 10:00:00'),
      ]),
      expectedLine([Buffer.from('row 2'), null, null, null, null, null, null, null]),
    ])
    expect(lines.equals(want)).toBe(true)
    expect(count).toEqual({
      rows: 2,
      bytes: want.length,
      sha256: createHash('sha256').update(want).digest('hex'),
    })
  })

  it('streams many feeds with the connection paused and resumed, and hashes without lines', async () => {
    const { sql, wantBytes } = SEQ_ROWS
    let readFromSocket = 0
    const { lines, count } = await withSession(async (s) => {
      const source = s.stream(sql, new AbortController().signal)
      const r = await linesOf(source)
      readFromSocket = (source as RowFeedCollector).rowsReadFromSocket
      return r
    })
    // Past the first read, rows are taken from the socket's reads, not through mysql2
    // (row-socket-reader.ts): if a mysql2 upgrade moves its parser, this fails.
    expect(readFromSocket).toBeGreaterThan(290_000)
    expect(wantBytes.length).toBeGreaterThan(4 * FEED_BYTES)
    expect(lines.equals(wantBytes)).toBe(true)
    const sha256 = createHash('sha256').update(wantBytes).digest('hex')
    expect(count).toEqual({ rows: 300_000, bytes: wantBytes.length, sha256 })
    const hashOnly = { rows: 0, bytes: 0, sha256: '' }
    const yielded = await withSession(async (s) => {
      let n = 0
      for await (const c of rowEncoders().encode(
        s.stream(sql, new AbortController().signal),
        hashOnly,
        false,
      ))
        n += c.length
      return n
    })
    expect(yielded).toBe(0)
    expect(hashOnly).toEqual(count)
  })

  it('takes each buffer of lines back when the next is asked for, and skips the hash', async () => {
    const { sql, wantBytes } = SEQ_ROWS
    for (let round = 0; round < 2; round++) {
      const count = { rows: 0, bytes: 0, sha256: 'unset' }
      const copies: Buffer[] = []
      let detached = 0
      await withSession(async (s) => {
        let previous: Uint8Array | undefined
        for await (const c of rowEncoders().encode(
          s.stream(sql, new AbortController().signal),
          count,
          true,
          undefined,
          { hashed: false, reused: true },
        )) {
          if (previous && previous.buffer.byteLength === 0) detached++
          copies.push(Buffer.from(c))
          previous = c
        }
      })
      expect(copies.length).toBeGreaterThan(3)
      expect(detached).toBe(copies.length - 1)
      // The second round's lines are written into the buffers the first gave back.
      expect(Buffer.concat(copies).equals(wantBytes)).toBe(true)
      expect(count).toEqual({ rows: 300_000, bytes: wantBytes.length, sha256: '' })
    }
  })

  it('cuts the lines into gear chunks on the encoder thread, and reuses given-back buffers', async () => {
    const { sql, wantBytes } = SEQ_ROWS
    const pol = parsePolynomial('3da3358b4dc173')
    const expected = new ChunkAssembler(new GearChunker(pol))
    const wantChunks = [...expected.push(wantBytes), expected.end()!]
    expect(wantChunks.length).toBeGreaterThan(3)
    const run = async (): Promise<{ chunks: HashedChunk[]; count: EncodedCount }> => {
      const count = { rows: 0, bytes: 0, sha256: '' }
      const chunks = await withSession(async (s) => {
        const got: HashedChunk[] = []
        for await (const c of rowEncoders().encodeChunks(
          s.stream(sql, new AbortController().signal),
          count,
          pol,
        ))
          got.push(c)
        return got
      })
      return { chunks, count }
    }
    const first = await run()
    expect(first.chunks.map((c) => c.data.length)).toEqual(wantChunks.map((c) => c.length))
    expect(first.chunks.map((c) => c.id)).toEqual(wantChunks.map((c) => hashId(c)))
    expect(Buffer.concat(first.chunks.map((c) => c.data)).equals(wantBytes)).toBe(true)
    expect(first.count).toEqual({
      rows: 300_000,
      bytes: wantBytes.length,
      sha256: createHash('sha256').update(wantBytes).digest('hex'),
    })
    // Buffers given back travel to the encoder thread (detached here), and chunks come out
    // the same when cut into them.
    for (const c of first.chunks) c.recycle!(c.data.buffer as ArrayBuffer)
    expect(first.chunks.every((c) => c.data.buffer.byteLength === 0)).toBe(true)
    const second = await run()
    expect(second.chunks.map((c) => c.id)).toEqual(first.chunks.map((c) => c.id))
    expect(Buffer.concat(second.chunks.map((c) => c.data)).equals(wantBytes)).toBe(true)
  })

  it('puts together rows sent as several packets, among ordinary ones', async () => {
    // 16 MiB is the server's max_allowed_packet here: a value of that length makes a row
    // longer than one packet; a payload of exactly 0xFFFFFF bytes is followed by an empty one.
    const big = 16 * 1024 * 1024
    const exact = 0xffffff - 2 - 4
    const sql =
      `SELECT seq, CASE seq WHEN 40000 THEN REPEAT('z', ${big}) ` +
      `WHEN 70000 THEN REPEAT('q', ${exact}) ELSE 'a' END FROM test.seq_1_to_100000`
    const { lines, count } = await withSession((s) =>
      linesOf(s.stream(sql, new AbortController().signal)),
    )
    expect(count.rows).toBe(100_000)
    let want = ''
    for (let i = 1; i <= 100_000; i++) want += i === 40000 ? '' : i === 70000 ? '' : `${i}\ta\n`
    const text = lines.toString('latin1')
    const zAt = text.indexOf('40000\t')
    const qAt = text.indexOf('70000\t')
    expect(text.slice(zAt + 6, zAt + 6 + big)).toBe('z'.repeat(big))
    expect(text[zAt + 6 + big]).toBe('\n')
    expect(text.slice(qAt + 6, qAt + 6 + exact)).toBe('q'.repeat(exact))
    expect(text[qAt + 6 + exact]).toBe('\n')
    const rest = text.slice(0, zAt) + text.slice(zAt + 7 + big, qAt) + text.slice(qAt + 7 + exact)
    expect(rest).toBe(want)
  })

  it('fails with the server error that comes after rows, and the session stays usable', async () => {
    await withSession(async (s) => {
      const sql =
        'SELECT seq, IF(seq = 250000, (SELECT 1 UNION SELECT 2), seq) FROM test.seq_1_to_300000'
      await expect(linesOf(s.stream(sql, new AbortController().signal))).rejects.toThrow(
        /Subquery returns more than 1 row/,
      )
      expect(await s.query('SELECT 1 + 1')).toEqual([[2]])
    })
  })

  it('stops the query when the reader stops early, and the session stays usable', async () => {
    await withSession(async (s) => {
      let seen = 0
      for await (const c of rowEncoders().encode(
        s.stream('SELECT seq FROM test.seq_1_to_500000', new AbortController().signal),
        { rows: 0, bytes: 0, sha256: '' },
        true,
      )) {
        seen += c.length
        break
      }
      expect(seen).toBeGreaterThan(0)
      expect(await s.query('SELECT 1 + 1')).toEqual([[2]])
    })
  })

  it('fails with the abort reason, and the session stays usable', async () => {
    await withSession(async (s) => {
      const ac = new AbortController()
      const reason = new Error('stop here')
      const run = (async () => {
        for await (const c of rowEncoders().encode(
          s.stream('SELECT seq FROM test.seq_1_to_2000000', ac.signal),
          { rows: 0, bytes: 0, sha256: '' },
          true,
          ac.signal,
        )) {
          void c
          ac.abort(reason)
        }
      })()
      await expect(run).rejects.toBe(reason)
      expect(await s.query('SELECT 1 + 1')).toEqual([[2]])
    })
  })

  it('fails a stream whose feed is malformed, and the encoders go on with the next', async () => {
    const feeds = [
      { data: Buffer.concat([framed(Buffer.from([5, 0x61])), Buffer.alloc(1000)]), rows: 1 },
    ]
    let discarded = false
    const source: RowFeedSource = {
      next: () => Promise.resolve(feeds.shift()),
      recycle: () => undefined,
      discard: () => (discarded = true),
    }
    const count = { rows: 0, bytes: 0, sha256: '' }
    await expect(
      (async () => {
        for await (const c of rowEncoders().encode(source, count, true)) void c
      })(),
    ).rejects.toThrow(/runs past its end/)
    expect(discarded).toBe(true)
    const { lines } = await withSession((s) =>
      linesOf(s.stream("SELECT 'still', 'here'", new AbortController().signal)),
    )
    expect(lines.toString()).toBe('still\there\n')
  })
})
