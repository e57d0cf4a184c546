import { describe, expect, it } from 'vitest'
import { encodeRow, encodeRows } from '../../../src/capture/mysql/row-format.js'
import { openSession, type RowPacket } from '../../../src/capture/mysql/session.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { MYSQL_URL } from './mysql-harness.js'

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

async function collect(rows: RowPacket[][]): Promise<Buffer> {
  async function* batches(): AsyncGenerator<readonly RowPacket[]> {
    for (const b of rows) yield b
  }
  const out: Uint8Array[] = []
  for await (const c of encodeRows(batches())) out.push(c)
  return Buffer.concat(out)
}

describe('row packets to data-file lines', () => {
  it('reads every length marker, NULL and empty, and escapes the five special bytes', async () => {
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
    const got = await collect([[packet], [Buffer.concat([lengthCoded(null)])]])
    expect(got.equals(Buffer.concat([expectedLine(fields), Buffer.from('\\N\n')]))).toBe(true)
  })

  it('refuses a packet whose field runs past its end or has an unknown marker', () => {
    const out = Buffer.alloc(64)
    expect(() => encodeRow(Buffer.from([5, 0x61, 0x62]), out, 0)).toThrow(/runs past its end/)
    expect(() => encodeRow(Buffer.from([0xff, 0x00]), out, 0)).toThrow(/marker 0xff/)
  })

  it('gets the packets mysql2 receives from the server, for values of every length class', async () => {
    const s = await openSession({ ...parseMysqlUrl(MYSQL_URL), connections: 1 })
    try {
      const sql =
        "SELECT NULL, '', 'a\\tb\\nc\\\\d\\re', CAST(X'00FF0A' AS BINARY), REPEAT('x', 300), " +
        "REPEAT('y', 70000), 12.50, CAST('2024-02-29 10:00:00' AS DATETIME) UNION ALL " +
        "SELECT 'row 2', NULL, NULL, NULL, NULL, NULL, NULL, NULL"
      const batches = s.stream(sql, new AbortController().signal)
      const got: Buffer[] = []
      for await (const c of encodeRows(batches)) got.push(Buffer.from(c))
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
      expect(Buffer.concat(got).equals(want)).toBe(true)
    } finally {
      await s.close()
    }
  })

  it('stops the query when the reader stops early, and the session stays usable', async () => {
    const s = await openSession({ ...parseMysqlUrl(MYSQL_URL), connections: 1 })
    try {
      let seen = 0
      for await (const batch of s.stream(
        'SELECT seq FROM test.seq_1_to_200000',
        new AbortController().signal,
      )) {
        seen += batch.length
        if (seen > 0) break
      }
      expect(seen).toBeGreaterThan(0)
      expect(await s.query('SELECT 1 + 1')).toEqual([[2]])
    } finally {
      s.destroy()
    }
  })
})
