import { describe, expect, it } from 'vitest'
import { Limiter } from '../../src/lib/limiter.js'

/** A run that ends when told: `release()` resolves what it awaits. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release!: () => void
  const wait = new Promise<void>((resolve) => (release = resolve))
  return { wait, release }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('Limiter', () => {
  it('runs at most `limit` at once, the others in order as slots free', async () => {
    const limiter = new Limiter(2)
    const gates = [gate(), gate(), gate(), gate()]
    const started: number[] = []
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i)
        await g.wait
        return i
      }),
    )
    await tick()
    expect(started).toEqual([0, 1])
    gates[1]!.release()
    await tick()
    expect(started).toEqual([0, 1, 2])
    gates[0]!.release()
    gates[2]!.release()
    gates[3]!.release()
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3])
  })

  it('frees the slot of a run that fails', async () => {
    const limiter = new Limiter(1)
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limiter.run(() => Promise.resolve('next'))).toBe('next')
  })

  it('holds a producer in `room` until fewer than the given runs wait', async () => {
    const limiter = new Limiter(1)
    const gates = [gate(), gate(), gate(), gate()]
    const runs = gates.map((g) => limiter.run(() => g.wait))
    // One runs, three wait: room for fewer than 2 waiting comes after two runs end.
    let roomy = false
    const room = limiter.room(2).then(() => (roomy = true))
    await tick()
    expect(roomy).toBe(false)
    gates[0]!.release()
    await tick()
    expect(roomy).toBe(false)
    gates[1]!.release()
    await room
    expect(roomy).toBe(true)
    for (const g of gates) g.release()
    await Promise.all(runs)
    // Nothing waits: room at once.
    await limiter.room(1)
  })

  it('refuses a limit below one', () => {
    expect(() => new Limiter(0)).toThrow('limit must be at least 1, got 0')
  })
})
