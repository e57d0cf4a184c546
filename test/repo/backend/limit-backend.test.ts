import { describe, expect, it } from 'vitest'
import {
  LimitBackend,
  MemoryBackend,
  type Backend,
  type CallOptions,
  type FileInfo,
  type FileType,
  type Handle,
  type LoadOptions,
} from '../../../src/repo/backend/index.js'
import { backendConformance } from './backend-suite.js'

backendConformance('memory behind a limit of one call', async () => ({
  backend: new LimitBackend(new MemoryBackend(), 1),
  cleanup: async () => {},
}))

/**
 * A backend whose loads and saves wait for the test to let them finish, and which tells how
 * many run at once: concurrency made observable without timing.
 */
class GateBackend implements Backend {
  readonly location = 'gate'
  readonly connections = 100
  active = 0
  maxActive = 0
  private readonly gates: (() => void)[] = []
  private readonly started: (() => void)[] = []
  private readonly mem = new MemoryBackend()

  /** Resolves once `n` calls are waiting at the gate. */
  async waiting(n: number): Promise<void> {
    while (this.gates.length < n) await new Promise<void>((r) => this.started.push(r))
  }

  /** Lets the oldest waiting call finish. */
  releaseOne(): void {
    this.gates.shift()?.()
  }

  private async gate<T>(fn: () => Promise<T>): Promise<T> {
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    await new Promise<void>((r) => {
      this.gates.push(r)
      for (const s of this.started.splice(0)) s()
    })
    try {
      return await fn()
    } finally {
      this.active--
    }
  }

  create(opts?: CallOptions): Promise<void> {
    return this.mem.create(opts)
  }
  save(h: Handle, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return this.gate(() => this.mem.save(h, data, opts))
  }
  load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    return this.gate(() => this.mem.load(h, opts))
  }
  stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    return this.mem.stat(h, opts)
  }
  list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    return this.mem.list(type, opts)
  }
  remove(h: Handle, opts?: CallOptions): Promise<void> {
    return this.mem.remove(h, opts)
  }
  async close(): Promise<void> {}
}

const h = (i: number): Handle => ({ type: 'data', name: i.toString(16).padStart(64, '0') })

describe('LimitBackend', () => {
  it('runs at most `limit` calls at once and starts the next as one ends', async () => {
    const gate = new GateBackend()
    const be = new LimitBackend(gate, 3)
    expect(be.connections).toBe(3)
    const saves = Array.from({ length: 8 }, (_, i) => be.save(h(i), Buffer.from([i])))
    await gate.waiting(3)
    expect(gate.active).toBe(3)
    gate.releaseOne()
    await gate.waiting(3)
    expect(gate.active).toBe(3)
    for (let released = 1; released < 8; released++) {
      await gate.waiting(Math.min(3, 8 - released))
      gate.releaseOne()
    }
    await Promise.all(saves)
    expect(gate.maxActive).toBe(3)
  })

  it('lets lock files past a full queue, so a lock refresh never waits for uploads', async () => {
    const gate = new GateBackend()
    const be = new LimitBackend(gate, 1)
    const upload = be.save(h(1), Buffer.from('pack'))
    await gate.waiting(1)
    const lock = be.save({ type: 'locks', name: h(2).name }, Buffer.from('lock'))
    await gate.waiting(2)
    expect(gate.active).toBe(2)
    gate.releaseOne()
    gate.releaseOne()
    await Promise.all([upload, lock])
  })

  it('drops a waiting call whose signal aborts, and keeps its count right', async () => {
    const gate = new GateBackend()
    const be = new LimitBackend(gate, 1)
    const first = be.save(h(1), Buffer.from('a'))
    await gate.waiting(1)
    const ac = new AbortController()
    const second = be.save(h(2), Buffer.from('b'), { signal: ac.signal })
    const reason = new Error('cancelled')
    ac.abort(reason)
    await expect(second).rejects.toBe(reason)
    gate.releaseOne()
    await first
    // The slot is free again: a new call runs.
    const third = be.save(h(3), Buffer.from('c'))
    await gate.waiting(1)
    gate.releaseOne()
    await third
    expect(gate.maxActive).toBe(1)
  })

  it('holds no slot while the consumer of a listing works, so it may call back in', async () => {
    const mem = new MemoryBackend()
    for (let i = 0; i < 5; i++) await mem.save({ type: 'index', name: h(i).name }, Buffer.from([i]))
    const be = new LimitBackend(mem, 1)
    const loaded: number[] = []
    for await (const f of be.list('index')) {
      loaded.push((await be.load({ type: 'index', name: f.name }))[0]!)
    }
    expect(loaded.sort()).toEqual([0, 1, 2, 3, 4])
  })
})
