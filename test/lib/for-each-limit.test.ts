import { describe, expect, it } from 'vitest'
import { forEachLimit } from '../../src/lib/index.js'

describe('forEachLimit', () => {
  it('never runs more than the limit at once and visits every item', async () => {
    let running = 0
    let peak = 0
    const seen: number[] = []
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setImmediate(r))
      seen.push(n)
      running--
    })
    expect(peak).toBe(3)
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('throws the first failure and aborts the calls in flight', async () => {
    const aborted: number[] = []
    const err = await forEachLimit([1, 2, 3], 3, async (n, signal) => {
      if (n === 2) throw new Error('boom')
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted.push(n)
          resolve()
        })
      })
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('boom')
    expect(aborted.sort()).toEqual([1, 3])
  })

  it('pulls an async iterable lazily', async () => {
    let pulled = 0
    async function* gen() {
      for (let i = 0; i < 10; i++) {
        pulled++
        yield i
      }
    }
    const pulledWhenFirstRan: number[] = []
    await forEachLimit(gen(), 2, async () => {
      pulledWhenFirstRan.push(pulled)
      await Promise.resolve()
    })
    expect(pulledWhenFirstRan[0]).toBeLessThanOrEqual(2)
    expect(pulled).toBe(10)
  })

  it('stops when the caller aborts', async () => {
    const ac = new AbortController()
    ac.abort(new Error('stop'))
    await expect(forEachLimit([1], 1, () => Promise.resolve(), ac.signal)).rejects.toThrow('stop')
  })
})
