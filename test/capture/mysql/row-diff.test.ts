import { describe, expect, it } from 'vitest'
import { compareIntegers, diffRows } from '../../../src/capture/mysql/row-diff.js'

const NO_LIMIT = { maxRows: Infinity, maxBytes: Infinity }

/** The text as chunks cut at the given sizes, in turn (a producer cuts lines anywhere). */
async function* chunked(text: string, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'latin1')
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    yield new Uint8Array(bytes.subarray(at, at + n))
    at += n
  }
}

const lines = (rows: readonly string[]): string => rows.map((r) => `${r}\n`).join('')
const text = (bufs: readonly Buffer[]): string[] =>
  bufs.map((b) => b.toString('latin1').replace(/\n$/, ''))

/** What the diff must find, from maps: rows to write (snapshot order), keys to delete. */
function expected(
  snapshot: readonly string[],
  live: readonly string[],
  key: (row: string) => string,
): { writes: string[]; deletes: string[] } {
  const liveByKey = new Map(live.map((r) => [key(r), r]))
  const snapKeys = new Set(snapshot.map(key))
  return {
    writes: snapshot.filter((r) => liveByKey.get(key(r)) !== r),
    deletes: live.filter((r) => !snapKeys.has(key(r))).map(key),
  }
}

/** A deterministic generator of integers below `n`. */
function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
}

describe('diffRows', () => {
  it('finds changed, missing and extra rows whatever the chunks', async () => {
    const snapshot = ['1\ta', '2\tb', '5\tc\\td', '9\t\\N', '10\tx', '11\ty']
    const live = ['1\ta', '2\tB', '3\tnew', '9\t\\N', '10\tx', '12\tz']
    for (const sizes of [[1], [2, 3], [7], [1000], [5, 1, 11]]) {
      const d = await diffRows(
        chunked(lines(snapshot), sizes),
        chunked(lines(live), [...sizes].reverse()),
        [0],
        NO_LIMIT,
      )
      expect(d, `chunks ${sizes.join(',')}`).toBeDefined()
      expect(text(d!.writes)).toEqual(['2\tb', '5\tc\\td', '11\ty'])
      expect(text(d!.deletes)).toEqual(['3', '12'])
      expect(d!.writeRows).toBe(3)
      expect(d!.deleteRows).toBe(2)
      expect(d!.bytes).toBe(d!.writes.concat(d!.deletes).reduce((n, b) => n + b.length, 0))
    }
  })

  it('is empty when the rows are equal, and handles empty sides', async () => {
    const rows = lines(['1\ta', '2\tb'])
    const same = await diffRows(chunked(rows, [3]), chunked(rows, [4]), [0], NO_LIMIT)
    expect(same).toMatchObject({ writeRows: 0, deleteRows: 0, bytes: 0 })
    const emptyLive = await diffRows(chunked(rows, [3]), chunked('', [1]), [0], NO_LIMIT)
    expect(text(emptyLive!.writes)).toEqual(['1\ta', '2\tb'])
    const emptySnap = await diffRows(chunked('', [1]), chunked(rows, [1]), [0], NO_LIMIT)
    expect(text(emptySnap!.deletes)).toEqual(['1', '2'])
  })

  it('orders composite keys, not in the first columns, numerically with signs and zeros', async () => {
    // Key (c2, c0): c2 first. Row text after the key fields may differ.
    const key = (r: string): string => {
      const f = r.split('\t')
      return `${f[2]}\t${f[0]}`
    }
    const snapshot = [
      '-10\tx\t-3',
      '2\tx\t-3',
      '-1\tx\t0',
      '0\ty\t0',
      '9\tx\t0',
      '10\tx\t0',
      '1\tx\t00012',
    ]
    const live = [
      '-10\tx\t-3',
      '2\tz\t-3',
      '0\ty\t0',
      '10\tx\t0',
      '11\tx\t0',
      '1\tx\t00012',
      '2\tq\t00100',
    ]
    const d = await diffRows(
      chunked(lines(snapshot), [4]),
      chunked(lines(live), [6]),
      [2, 0],
      NO_LIMIT,
    )
    const want = expected(snapshot, live, key)
    expect(text(d!.writes)).toEqual(want.writes)
    expect(text(d!.deletes)).toEqual(want.deletes)
  })

  it('agrees with a map-based diff on random tables', async () => {
    const rand = seededRandom(7)
    for (let round = 0; round < 30; round++) {
      const snapshot: string[] = []
      const live: string[] = []
      for (let k = -50; k < 400; k += 1 + rand(3)) {
        // Past 200, keys of 20 digits: compared as text, not as numbers, beside short ones.
        const key = k < 200 ? String(k) : `1000000000000000${String(k).padStart(4, '0')}`
        const row = `${key}\tv${rand(5)}\t${'w'.repeat(rand(40))}`
        const fate = rand(10)
        if (fate !== 0) snapshot.push(row)
        if (fate === 1) continue
        live.push(fate === 2 ? `${key}\tchanged` : row)
      }
      const d = await diffRows(
        chunked(lines(snapshot), [1 + rand(200)]),
        chunked(lines(live), [1 + rand(200), 1 + rand(7)]),
        [0],
        NO_LIMIT,
      )
      const want = expected(snapshot, live, (r) => r.split('\t')[0]!)
      expect(text(d!.writes)).toEqual(want.writes)
      expect(text(d!.deletes)).toEqual(want.deletes)
    }
  })

  it('finds sparse changes between long runs of equal rows, whatever the chunks', async () => {
    const rand = seededRandom(11)
    for (let round = 0; round < 12; round++) {
      const snapshot: string[] = []
      const live: string[] = []
      for (let k = 1; k <= 5000; k++) {
        const row = `${k}\t${'abcdefgh'.slice(0, 1 + (k % 8))}\t${k * 7}`
        const fate = rand(150)
        if (fate !== 0) snapshot.push(row)
        if (fate === 1) continue
        // A change of one byte, at the row's end or in its middle.
        live.push(fate === 2 ? `${row}9` : fate === 3 ? row.replace('\ta', '\tA') : row)
      }
      // Big chunks (runs passed over within one), and chunks of any size on the other side.
      const d = await diffRows(
        chunked(lines(snapshot), [20000 + rand(50000), 1 + rand(300)]),
        chunked(lines(live), [1 + rand(100000)]),
        [0],
        NO_LIMIT,
      )
      const want = expected(snapshot, live, (r) => r.split('\t')[0]!)
      expect(want.writes.length + want.deletes.length).toBeGreaterThan(50)
      expect(text(d!.writes)).toEqual(want.writes)
      expect(text(d!.deletes)).toEqual(want.deletes)
    }
  })

  it('gives up on a row out of order right after a run of equal rows', async () => {
    const run = Array.from({ length: 300 }, (_, i) => `${i + 10}\tsame`)
    const good = lines([...run, '400\tx'])
    const bad = lines([...run, '5\tx'])
    expect(
      await diffRows(chunked(bad, [100000]), chunked(good, [100000]), [0], NO_LIMIT),
    ).toBeUndefined()
    expect(
      await diffRows(chunked(good, [100000]), chunked(bad, [100000]), [0], NO_LIMIT),
    ).toBeUndefined()
    // The same disorder inside a run on both sides is the live table's own order: nothing
    // differs, nothing to do.
    const inside = lines([...run.slice(0, 150), '5\tx', ...run.slice(150), '400\tx'])
    expect(
      await diffRows(chunked(inside, [100000]), chunked(inside, [70000]), [0], NO_LIMIT),
    ).toMatchObject({ writeRows: 0, deleteRows: 0 })
  })

  it('gives up on rows out of key order, on either side', async () => {
    const good = lines(['1\ta', '2\tb', '3\tc'])
    const bad = lines(['1\ta', '3\tc', '2\tb'])
    const repeated = lines(['1\ta', '1\tb'])
    expect(await diffRows(chunked(bad, [2]), chunked(good, [2]), [0], NO_LIMIT)).toBeUndefined()
    expect(await diffRows(chunked(good, [2]), chunked(bad, [100]), [0], NO_LIMIT)).toBeUndefined()
    expect(
      await diffRows(chunked(repeated, [1]), chunked(good, [1]), [0], NO_LIMIT),
    ).toBeUndefined()
    // Keys too long for a number, compared as text, the previous one in a replaced chunk.
    const longBad = lines(['10000000000000000002\ta', '10000000000000000001\tb'])
    for (const size of [1, 23, 100])
      expect(
        await diffRows(chunked(longBad, [size]), chunked(good, [1]), [0], NO_LIMIT),
      ).toBeUndefined()
    // A line with fewer fields than the key needs.
    expect(
      await diffRows(chunked(lines(['1\ta']), [9]), chunked(lines(['1\ta']), [9]), [2], NO_LIMIT),
    ).toBeUndefined()
  })

  it('gives up past its limits and closes both streams', async () => {
    let closed = 0
    async function* tracked(rows: string): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(rows, [3])
      } finally {
        closed++
      }
    }
    const many = lines(Array.from({ length: 100 }, (_, i) => `${i}\tsnap`))
    const other = lines(Array.from({ length: 100 }, (_, i) => `${i}\tlive`))
    expect(
      await diffRows(tracked(many), tracked(other), [0], { maxRows: 10, maxBytes: Infinity }),
    ).toBeUndefined()
    expect(closed).toBe(2)
    expect(
      await diffRows(tracked(many), tracked(other), [0], { maxRows: Infinity, maxBytes: 50 }),
    ).toBeUndefined()
    expect(closed).toBe(4)
  })

  it('refuses a stream whose last line has no newline', async () => {
    await expect(
      diffRows(chunked('1\ta\n2\tb', [3]), chunked('1\ta\n', [3]), [0], NO_LIMIT),
    ).rejects.toThrow(/newline/)
  })
})

describe('compareIntegers', () => {
  const cmp = (a: string, b: string): number => {
    const x = Buffer.from(a)
    const y = Buffer.from(b)
    return compareIntegers(x, 0, x.length, y, 0, y.length)
  }
  it('compares decimal text as numbers', () => {
    expect(cmp('9', '10')).toBe(-1)
    expect(cmp('-9', '-10')).toBe(1)
    expect(cmp('-1', '0')).toBe(-1)
    expect(cmp('0012', '12')).toBe(0)
    expect(cmp('0', '000')).toBe(0)
    expect(cmp('18446744073709551615', '18446744073709551614')).toBe(1)
    expect(cmp('-9223372036854775808', '9223372036854775807')).toBe(-1)
  })
})
