import { describe, expect, it } from 'vitest'
import type { PackId } from '../../src/repo/index.js'
import { PackGapCache } from '../../src/repo/pack-gap-cache.js'

const P = 'a'.repeat(64) as PackId
const Q = 'b'.repeat(64) as PackId
const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

describe('PackGapCache', () => {
  const cases: {
    name: string
    ask: [PackId, number, number]
    want: number[] | undefined
  }[] = [
    { name: 'bytes inside a gap', ask: [P, 102, 3], want: [2, 3, 4] },
    { name: 'a whole gap', ask: [P, 100, 10], want: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { name: 'past the end of a gap', ask: [P, 108, 4], want: undefined },
    { name: 'before the start of a gap', ask: [P, 99, 2], want: undefined },
    { name: 'the same offset of another pack', ask: [Q, 102, 3], want: undefined },
  ]
  it.each(cases)('$name', ({ ask, want }) => {
    const cache = new PackGapCache(1024)
    cache.add(P, 100, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    const got = cache.lookup(...ask)
    expect(got ? [...got] : undefined).toEqual(want)
  })

  it('drops the oldest gaps beyond its size and never keeps one larger than it', () => {
    const cache = new PackGapCache(100)
    cache.add(P, 0, bytes(60, 1))
    cache.add(P, 1000, bytes(30, 2))
    cache.add(P, 2000, bytes(101, 3))
    expect(cache.lookup(P, 0, 1)).toBeDefined()
    expect(cache.lookup(P, 2000, 1)).toBeUndefined()
    cache.add(P, 3000, bytes(20, 4))
    expect(cache.lookup(P, 0, 1)).toBeUndefined()
    expect(cache.lookup(P, 1000, 30)).toEqual(bytes(30, 2))
    expect(cache.lookup(P, 3000, 20)).toEqual(bytes(20, 4))
  })

  it('answers with copies, so that a caller may take its buffer away', () => {
    const cache = new PackGapCache(1 << 20)
    const source = bytes(64 * 1024, 7)
    cache.add(P, 0, source)
    source.fill(0) // the cache copied what it was given
    const first = cache.lookup(P, 0, source.length)!
    structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] }) // detaches `first`
    expect(cache.lookup(P, 0, source.length)).toEqual(bytes(64 * 1024, 7))
  })
})
