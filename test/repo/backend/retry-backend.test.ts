import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { BackendError } from '../../../src/errors.js'
import {
  LimitBackend,
  MemoryBackend,
  RetryBackend,
  type RetryEvent,
  type RetryPolicy,
} from '../../../src/repo/backend/index.js'
import { isNotFound } from '../../../src/repo/index.js'
import { FaultyBackend } from '../../helpers/faulty-backend.js'
import { backendConformance } from './backend-suite.js'

/** A policy that does not wait (no sleeps in tests) and records every retry. */
function instant(events: RetryEvent[] = [], more: RetryPolicy = {}): RetryPolicy {
  return { sleep: async () => {}, onRetry: (e) => events.push(e), ...more }
}

const id = (): string => randomBytes(32).toString('hex')

let injected = 0
let runs = 0
backendConformance('memory behind faults (30 % of calls), retries and a limit', async () => {
  const faulty = new FaultyBackend(
    new MemoryBackend(),
    [{ ops: ['save', 'remove'], fraction: 0.15, effect: 'fail-after' }, { fraction: 0.15 }],
    `conformance-${runs++}`,
  )
  return {
    backend: new RetryBackend(new LimitBackend(faulty, 3), instant([], { maxAttempts: 30 })),
    cleanup: async () => {
      injected += faulty.injected
    },
  }
})
afterAll(() => {
  // The suite must have met faults, or it proved nothing about retries.
  expect(injected).toBeGreaterThan(10)
})

describe('RetryBackend', () => {
  it('retries transient failures with growing, capped, jittered waits', async () => {
    const events: RetryEvent[] = []
    const inner = new FaultyBackend(new MemoryBackend(), [
      { ops: ['load'], calls: [1, 2, 3, 4, 5] },
    ])
    const be = new RetryBackend(
      inner,
      instant(events, { random: () => 0.5, baseDelayMs: 100, maxDelayMs: 500 }),
    )
    const h = { type: 'index' as const, name: id() }
    await be.save(h, Buffer.from('x'))
    expect((await be.load(h)).toString()).toBe('x')
    expect(events.map((e) => [e.what, e.attempt, e.delayMs])).toEqual([
      [`load index/${h.name}`, 1, 50],
      [`load index/${h.name}`, 2, 100],
      [`load index/${h.name}`, 3, 200],
      [`load index/${h.name}`, 4, 250],
      [`load index/${h.name}`, 5, 250],
    ])
  })

  it('does not retry permanent errors: a missing file is reported at once', async () => {
    const events: RetryEvent[] = []
    const be = new RetryBackend(new MemoryBackend(), instant(events))
    const e = await be.load({ type: 'snapshots', name: id() }).catch((x: unknown) => x)
    expect(isNotFound(e)).toBe(true)
    expect(events).toEqual([])
  })

  it('gives up after the last attempt, saying so, with the last error as cause', async () => {
    const inner = new FaultyBackend(new MemoryBackend(), [{ ops: ['stat'], fraction: 1 }])
    const be = new RetryBackend(inner, instant([], { maxAttempts: 4 }))
    const e = await be.stat({ type: 'keys', name: 'k' }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(BackendError)
    expect((e as BackendError).message).toBe('Injected fault: stat k (gave up after 4 attempts).')
    expect((e as BackendError).permanent).toBe(false)
    expect((e as BackendError).cause).toBeInstanceOf(BackendError)
    expect(inner.injected).toBe(4)
  })

  it('sends a save again whole when its answer was lost', async () => {
    const mem = new MemoryBackend()
    const inner = new FaultyBackend(mem, [{ ops: ['save'], calls: [1], effect: 'fail-after' }])
    const be = new RetryBackend(inner, instant())
    const h = { type: 'data' as const, name: id() }
    const parts = [randomBytes(10), randomBytes(20)]
    await be.save(h, parts)
    expect((await mem.load(h)).equals(Buffer.concat(parts))).toBe(true)
    expect(inner.injected).toBe(1)
  })

  it('restarts a failed listing and yields each file once', async () => {
    const mem = new MemoryBackend()
    const names = Array.from({ length: 20 }, id)
    for (const name of names) await mem.save({ type: 'index', name }, Buffer.from(name))
    const inner = new FaultyBackend(mem, [{ ops: ['list'], calls: [1, 2, 3] }])
    const be = new RetryBackend(inner, instant())
    const seen: string[] = []
    for await (const f of be.list('index')) seen.push(f.name)
    expect(seen.sort()).toEqual(names.sort())
    expect(inner.injected).toBe(3)
  })

  it('stops waiting when the signal aborts, with its reason', async () => {
    const inner = new FaultyBackend(new MemoryBackend(), [{ fraction: 1 }])
    // Real sleeps of a minute: only the abort can end this call.
    const be = new RetryBackend(inner, { baseDelayMs: 60_000, random: () => 0.99 })
    const ac = new AbortController()
    const loading = be.load({ type: 'index', name: id() }, { signal: ac.signal })
    const reason = new Error('operator pressed ^C')
    await Promise.resolve()
    ac.abort(reason)
    await expect(loading).rejects.toBe(reason)
  })

  it('makes no attempt with a signal already aborted', async () => {
    const inner = new FaultyBackend(new MemoryBackend(), [])
    const be = new RetryBackend(inner)
    const ac = new AbortController()
    ac.abort(new Error('before'))
    await expect(
      be.save({ type: 'data', name: id() }, Buffer.from('x'), { signal: ac.signal }),
    ).rejects.toThrow('before')
    const left: string[] = []
    for await (const f of inner.inner.list('data')) left.push(f.name)
    expect(left).toEqual([])
  })
})
