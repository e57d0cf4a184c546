import { describe, expect, it } from 'vitest'
import { SpareBuffers } from '../../src/lib/spare-buffers.js'

describe('SpareBuffers', () => {
  it('hands out whole steps and gives a kept buffer back for anything it fits', () => {
    const spares = new SpareBuffers(10_000, 1024)
    const a = spares.take(1500)
    expect(a.length).toBe(1500)
    expect(a.buffer.byteLength).toBe(2048)
    spares.keep(a.buffer as ArrayBuffer)
    expect(spares.size).toEqual({ count: 1, bytes: 2048 })
    // Too large for the spare: a new buffer, the spare stays.
    const big = spares.take(3000)
    expect(big.buffer).not.toBe(a.buffer)
    expect(big.buffer.byteLength).toBe(3072)
    expect(spares.size.count).toBe(1)
    const again = spares.take(100)
    expect(again.buffer).toBe(a.buffer)
    expect(again.length).toBe(100)
    expect(spares.size).toEqual({ count: 0, bytes: 0 })
  })

  it('gives the smallest spare that fits', () => {
    const spares = new SpareBuffers(100_000, 1024)
    const large = new ArrayBuffer(8192)
    const small = new ArrayBuffer(1024)
    const mid = new ArrayBuffer(4096)
    for (const b of [large, small, mid]) spares.keep(b)
    expect(spares.take(2000).buffer).toBe(mid)
    expect(spares.take(10).buffer).toBe(small)
    expect(spares.take(10).buffer).toBe(large)
  })

  it('keeps at most `maxBytes`, letting the largest go', () => {
    const spares = new SpareBuffers(7000, 1024)
    const small = new ArrayBuffer(1024)
    const mid = new ArrayBuffer(2048)
    const large = new ArrayBuffer(4096)
    const larger = new ArrayBuffer(5120)
    spares.keep(large)
    spares.keep(small)
    spares.keep(mid)
    expect(spares.size).toEqual({ count: 2, bytes: 3072 })
    spares.keep(larger)
    expect(spares.size).toEqual({ count: 2, bytes: 3072 })
    const fresh = spares.take(3000)
    expect([large, larger, small, mid]).not.toContain(fresh.buffer)
    expect(spares.take(1500).buffer).toBe(mid)
    expect(spares.take(1).buffer).toBe(small)
  })

  it('ignores detached buffers', () => {
    const spares = new SpareBuffers(1 << 20)
    const b = new ArrayBuffer(1024)
    structuredClone(b, { transfer: [b] })
    spares.keep(b)
    expect(spares.size.count).toBe(0)
  })
})
