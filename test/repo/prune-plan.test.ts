import { describe, expect, it } from 'vitest'
import { planPrune, type BlobId, type PackId } from '../../src/repo/index.js'
import type { PackEntry } from '../../src/repo/pack/index.js'

const id = (c: string): string => c.repeat(64).slice(0, 64)
const pack = (c: string): PackId => id(c) as PackId
function entries(type: 'data' | 'tree', blobs: [string, number][]): PackEntry[] {
  let offset = 0
  return blobs.map(([c, length]) => {
    const e = { id: id(c) as BlobId, type, offset, length }
    offset += length
    return e
  })
}
const used = (...xs: [string, string][]): Set<string> =>
  new Set(xs.map(([t, c]) => `${t}:${id(c)}`))

describe('planPrune', () => {
  it('keeps full packs, removes empty and unindexed ones, repacks partly used tree packs', () => {
    const packs = new Map([
      [
        pack('1'),
        entries('data', [
          ['a', 100],
          ['b', 100],
        ]),
      ],
      [pack('2'), entries('data', [['c', 100]])],
      [
        pack('3'),
        entries('tree', [
          ['t', 10],
          ['u', 10],
        ]),
      ],
    ])
    const sizes = new Map([
      [pack('1'), 300],
      [pack('2'), 200],
      [pack('3'), 100],
      [pack('4'), 50],
    ])
    const plan = planPrune(packs, sizes, used(['data', 'a'], ['data', 'b'], ['tree', 't']), 5)
    expect(plan.keep).toEqual([pack('1')])
    expect([...plan.remove].sort()).toEqual([pack('2'), pack('4')].sort())
    expect(plan.repack).toEqual([{ pack: pack('3'), blobs: [packs.get(pack('3'))![0]] }])
  })

  it('keeps one copy of a duplicate blob, in the pack that stays anyway', () => {
    const packs = new Map([
      [
        pack('1'),
        entries('data', [
          ['a', 100],
          ['b', 100],
        ]),
      ],
      [
        pack('2'),
        entries('data', [
          ['a', 100],
          ['z', 500],
        ]),
      ],
    ])
    const sizes = new Map([
      [pack('1'), 300],
      [pack('2'), 700],
    ])
    const plan = planPrune(packs, sizes, used(['data', 'a'], ['data', 'b']), 5)
    expect(plan.keep).toEqual([pack('1')])
    expect(plan.remove).toEqual([pack('2')])
  })

  it('repacks partly used data packs, emptiest first, until unused space is within the limit', () => {
    const packs = new Map([
      [
        pack('1'),
        entries('data', [
          ['a', 900],
          ['x', 100],
        ]),
      ], // 10 % unused
      [
        pack('2'),
        entries('data', [
          ['b', 500],
          ['y', 500],
        ]),
      ], // 50 % unused
      [pack('3'), entries('data', [['c', 1000]])],
    ])
    const sizes = new Map([...packs].map(([p, e]) => [p, e.reduce((n, x) => n + x.length, 0)]))
    const u = used(['data', 'a'], ['data', 'b'], ['data', 'c'])
    // Used: 2,400 bytes. Unused: 600. 5 % allows 126 unused bytes; 1 % allows 24.
    expect(planPrune(packs, sizes, u, 1).repack.map((r) => r.pack)).toEqual([pack('2'), pack('1')])
    expect(planPrune(packs, sizes, u, 5).repack.map((r) => r.pack)).toEqual([pack('2')])
    expect(planPrune(packs, sizes, u, 50).repack).toEqual([])
  })

  it('refuses when a used blob is in no pack', () => {
    const packs = new Map([[pack('1'), entries('data', [['a', 100]])]])
    expect(() =>
      planPrune(packs, new Map([[pack('1'), 200]]), used(['data', 'a'], ['data', 'm']), 5),
    ).toThrow(/Prune refused: 1 blob\(s\) used by snapshots are in no pack/)
  })
})
