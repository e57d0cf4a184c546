import { describe, expect, it } from 'vitest'
import type { BlobId, IndexId, PackId } from '../../../src/repo/id.js'
import { MasterIndex, parseIndexFile } from '../../../src/repo/index/index.js'

const id = (c: string): string => c.repeat(64)
const A = id('a') as BlobId
const B = id('b') as BlobId
const P1 = id('1') as PackId
const P2 = id('2') as PackId
const FILE = id('f') as IndexId

describe('the master index', () => {
  it('keeps every location of a blob stored in several packs, the first one first', () => {
    const index = new MasterIndex()
    index.addPack(P1, [{ id: A, type: 'data', offset: 0, length: 40 }])
    index.addPack(P2, [
      { id: B, type: 'data', offset: 0, length: 50 },
      { id: A, type: 'data', offset: 50, length: 40, uncompressedLength: 90 },
    ])
    expect(index.lookup('data', A)).toEqual({
      id: A,
      type: 'data',
      packId: P1,
      offset: 0,
      length: 40,
    })
    expect(index.locations('data', A).map((l) => [l.packId, l.offset])).toEqual([
      [P1, 0],
      [P2, 50],
    ])
    expect(index.locations('data', B)).toEqual([
      { id: B, type: 'data', packId: P2, offset: 0, length: 50 },
    ])
    expect(index.blobCount('data')).toBe(2)
  })

  it('keeps data and tree blobs of the same ID apart, and nothing for unknown blobs', () => {
    const index = new MasterIndex()
    index.addPack(P1, [
      { id: A, type: 'data', offset: 0, length: 40 },
      { id: A, type: 'tree', offset: 40, length: 60 },
    ])
    expect(index.lookup('tree', A)?.offset).toBe(40)
    expect(index.lookup('data', A)?.offset).toBe(0)
    expect(index.has('tree', B)).toBe(false)
    expect(index.lookup('data', B)).toBeUndefined()
    expect(index.locations('tree', B)).toEqual([])
  })

  it('counts a pack listed by two index files once, and remembers both files', () => {
    const index = new MasterIndex()
    const entries = [{ id: A, type: 'data' as const, offset: 0, length: 40 }]
    index.addPack(P1, entries, FILE)
    index.addPack(P1, entries, id('e') as IndexId)
    expect(index.locations('data', A)).toHaveLength(1)
    expect([...index.packIndexFiles.get(P1)!].sort()).toEqual([id('e'), FILE])
  })

  it('keeps the entries an index file was read into as the locations themselves', () => {
    const file = parseIndexFile(
      Buffer.from(
        JSON.stringify({
          packs: [{ id: P1, blobs: [{ id: A, type: 'data', offset: 8, length: 40 }] }],
        }),
      ),
    )
    const index = new MasterIndex()
    for (const p of file.packs) index.addPack(p.id, p.blobs, FILE)
    expect(index.lookup('data', A)).toBe(file.packs[0]!.blobs[0])
    expect(index.lookup('data', A)?.packId).toBe(P1)
  })
})
