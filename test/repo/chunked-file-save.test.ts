import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BlobLoader } from '../../src/repo/blob-loader.js'
import { ChunkAssembler, GearChunker } from '../../src/repo/chunker/index.js'
import { hashId, type BlobId } from '../../src/repo/id.js'
import {
  RepoReader,
  SnapshotWriter,
  treePath,
  type HashedChunk,
  type Repository,
} from '../../src/repo/index.js'
import { createRepo } from '../helpers/mount-repo.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const MiB = 1024 * 1024

/**
 * `data` cut by `assembler`, fed in 700 KB pieces, each chunk with its ID and a `recycle`
 * that records the buffers given back.
 */
async function* chunksOf(
  data: Uint8Array,
  assembler: ChunkAssembler,
  recycled: ArrayBuffer[],
): AsyncGenerator<HashedChunk> {
  const recycle = (b: ArrayBuffer): void => void recycled.push(b)
  for (let i = 0; i < data.length; i += 700_000)
    for (const c of assembler.push(data.subarray(i, i + 700_000)))
      yield { id: hashId(c), data: c, recycle }
  const last = assembler.end()
  if (last) yield { id: hashId(last), data: last, recycle }
}

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data
}

async function storedBytes(repo: Repository, content: readonly BlobId[]): Promise<Buffer> {
  const loader = new BlobLoader(repo, await repo.index())
  const parts: Buffer[] = []
  for (const id of content) parts.push(await loader.load('data', id))
  return Buffer.concat(parts)
}

// A producer that cuts and hashes chunks itself (a MySQL capture's row encoders) stores them
// through writeChunkedFile: the same file as writeFile of the bytes, and every chunk's buffer
// comes back to it, sealed or found stored already, as a view of the buffer it lent.
describe('SnapshotWriter.writeChunkedFile', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository

  beforeAll(async () => {
    tmp = await makeTempDir('chunked-file-save')
    repo = await createRepo(tmp.path)
  })
  afterAll(() => tmp.cleanup())

  it('stores what writeFile stores for the same chunks, and gives every buffer back', async () => {
    const block = seededBytes('chunked-block', 8 * MiB)
    // The same 8 MiB twice (about 7 cuts each): the second copy's chunks (after the first cut) are duplicates.
    const data = Buffer.concat([block, block, seededBytes('chunked-tail', 100_000)])
    const writer = await SnapshotWriter.start(repo)
    const lent: number[] = []
    const recycled: ArrayBuffer[] = []
    const assembler = new ChunkAssembler(writer.pol, {
      alloc: (n) => {
        const b = new ArrayBuffer(n + 1000)
        lent.push(b.byteLength)
        return new Uint8Array(b, 0, n)
      },
    })
    const chunked = await writer.writeChunkedFile(
      'a/chunked.bin',
      chunksOf(data, assembler, recycled),
    )
    const plain = await writer.writeFile('a/plain.bin', once(data))
    expect(chunked.size).toBe(data.length)
    expect(plain.size).toBe(data.length)
    const stored = await writer.commit({ paths: ['/a'], hostname: 'h' })
    const reader = await RepoReader.open(repo)
    const node = (name: string) => reader.lookup(stored.tree, [...treePath(`a/${name}`)])
    const c = (await node('chunked.bin'))!.content!
    expect(c).toEqual((await node('plain.bin'))!.content)
    expect(new Set(c).size).toBeLessThan(c.length)
    expect(Buffer.compare(await storedBytes(repo, c), data)).toBe(0)

    // Each lent buffer came back once, the whole of it (those of the duplicates too); those
    // that were sealed went to a worker thread and back (here they are detached).
    expect(recycled.length).toBe(c.length)
    expect(new Set(recycled).size).toBe(recycled.length)
    expect(recycled.every((b) => b.byteLength > 0)).toBe(true)
    expect(recycled.map((b) => b.byteLength).sort()).toEqual(lent.sort())
  })

  it('stores chunks cut by the gear chunker as blobs readable in order', async () => {
    const data = seededBytes('gear-file', 12 * MiB)
    const writer = await SnapshotWriter.start(repo)
    const assembler = new ChunkAssembler(new GearChunker(writer.pol))
    const recycled: ArrayBuffer[] = []
    await writer.writeChunkedFile('g/file.bin', chunksOf(data, assembler, recycled))
    const stored = await writer.commit({ paths: ['/g'], hostname: 'h' })
    const reader = await RepoReader.open(repo)
    const node = await reader.lookup(stored.tree, [...treePath('g/file.bin')])
    expect(node!.content!.length).toBeGreaterThan(1)
    expect(Buffer.compare(await storedBytes(repo, node!.content!), data)).toBe(0)
  })
})
