import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { chunkStream, parsePolynomial } from '../../../src/repo/chunker/index.js'
import { MasterKey } from '../../../src/repo/crypto/index.js'
import { CryptoPool } from '../../../src/repo/workers/crypto-pool.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'

const MiB = 1024 * 1024
/** chunker_test.go's testPol. */
const pol = parsePolynomial('3da3358b4dc173')
const pool = new CryptoPool(MasterKey.random(), 2)
afterAll(() => pool.close())

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** `data` in pieces of the given sizes, cycling; each piece a view of one reused buffer. */
async function* pieces(data: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  const scratch = new Uint8Array(Math.max(...sizes))
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at)
    scratch.set(data.subarray(at, at + n))
    yield scratch.subarray(0, n)
    // The source reuses its buffer, as a reader may: the pool must have copied it.
    scratch.fill(0xee)
    at += n
  }
}

async function onThisThread(data: Uint8Array): Promise<string[]> {
  const ids: string[] = []
  for await (const c of chunkStream(pieces(data, [64 * 1024]), pol)) ids.push(sha(c))
  return ids
}

describe('CryptoPool.chunks', () => {
  it('cuts and hashes exactly as the chunker on this thread, whatever the read sizes', async () => {
    const data = seededBytes(String(7), 20 * MiB + 12345)
    const expected = await onThisThread(data)
    expect(expected.length).toBeGreaterThan(8)
    for (const sizes of [[MiB], [1, 4095, 300_000], [3 * MiB + 1], [65_536, 17]]) {
      const got: string[] = []
      const joined: Uint8Array[] = []
      for await (const c of pool.chunks(pieces(data, sizes), pol)) {
        expect(c.id).toBe(sha(c.data))
        // Each chunk starts a buffer of its own, so it can be handed to another worker.
        expect(c.data.byteOffset).toBe(0)
        expect(c.data.buffer.byteLength).toBeGreaterThanOrEqual(c.data.byteLength)
        got.push(c.id)
        joined.push(c.data)
      }
      expect(got).toEqual(expected)
      expect(sha(Buffer.concat(joined))).toBe(sha(data))
    }
  })

  it('cuts the same chunks when every chunk buffer goes back to the worker once read', async () => {
    const data = seededBytes(String(11), 24 * MiB + 777)
    const expected = await onThisThread(data)
    // Two streams one after the other, so the second's chunks are cut into buffers the
    // first gave back (and its assembler is the first's, reset).
    for (let round = 0; round < 2; round++) {
      const got: string[] = []
      const whole = createHash('sha256')
      for await (const c of pool.chunks(pieces(data, [MiB]), pol)) {
        expect(c.id).toBe(sha(c.data))
        got.push(c.id)
        whole.update(c.data)
        expect(c.recycle).toBeDefined()
        c.recycle!(c.data.buffer as ArrayBuffer)
        // Given back: this thread has no view of it any more.
        expect(c.data.byteLength).toBe(0)
      }
      expect(got).toEqual(expected)
      expect(whole.digest('hex')).toBe(sha(data))
    }
  })

  it('yields nothing for an empty stream and one chunk for a short one', async () => {
    const none = []
    for await (const c of pool.chunks(pieces(new Uint8Array(0), [1]), pol)) none.push(c)
    expect(none).toEqual([])
    const short = seededBytes(String(3), 1000)
    const one = []
    for await (const c of pool.chunks(pieces(short, [100]), pol)) one.push(c.id)
    expect(one).toEqual([sha(short)])
  })

  it('closes the source and frees the worker when the caller stops early', async () => {
    let closed = false
    let read = 0
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; ; i++) {
          read++
          yield seededBytes(String(i), MiB)
        }
      } finally {
        closed = true
      }
    }
    let taken = 0
    for await (const _ of pool.chunks(endless(), pol)) if (++taken === 3) break
    await expect.poll(() => closed).toBe(true)
    // Feeding stopped shortly after: bounded by the feeds in flight and the queue.
    expect(read).toBeLessThan(40)
    // The pool still works after the abandoned stream.
    const after = seededBytes(String(9), 2 * MiB)
    const ids: string[] = []
    for await (const c of pool.chunks(pieces(after, [MiB]), pol)) ids.push(c.id)
    expect(ids).toEqual(await onThisThread(after))
  })

  it("passes the source's error on", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield seededBytes(String(1), 3 * MiB)
      throw new Error('disk went away')
    }
    await expect(async () => {
      for await (const _ of pool.chunks(failing(), pol)) {
        /* drain */
      }
    }).rejects.toThrow('disk went away')
  })

  it('stops with the signal’s reason', async () => {
    const ac = new AbortController()
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 100; i++) {
        if (i === 5) ac.abort(new Error('cancelled by the operator'))
        yield seededBytes(String(i), MiB)
      }
    }
    await expect(async () => {
      for await (const _ of pool.chunks(slow(), pol, ac.signal)) {
        /* drain */
      }
    }).rejects.toThrow('cancelled by the operator')
  })
})
