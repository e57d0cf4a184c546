import { createHash } from 'node:crypto'
import { BackendError } from '../../src/errors.js'
import type {
  Backend,
  CallOptions,
  FileInfo,
  FileType,
  Handle,
  LoadOptions,
} from '../../src/repo/index.js'

export const FAULT_OPS = ['create', 'save', 'load', 'stat', 'list', 'remove'] as const
export type FaultOp = (typeof FAULT_OPS)[number]

/** When a rule fires and what it does (kopia `internal/blobtesting/faulty.go`). */
export interface FaultRule {
  /** Calls the rule counts (default all). */
  readonly ops?: readonly FaultOp[]
  /** File types it counts (default all). */
  readonly types?: readonly FileType[]
  /** Fires on these calls among the ones it counts, from 1. */
  readonly calls?: readonly number[]
  /** Fires on this share of the calls it counts (seeded, so a run repeats). */
  readonly fraction?: number
  /**
   * `fail` (default): the call rejects without reaching the inner backend (a list fails
   * after its first entry). `fail-after`: the call reaches the inner backend, then rejects
   * (a save stored, its answer lost). `truncate`: a load returns its bytes minus the last
   * one, as a lying storage would.
   */
  readonly effect?: 'fail' | 'fail-after' | 'truncate'
  /** The error is permanent (default transient). */
  readonly permanent?: boolean
}

/**
 * A backend that injects faults into another, for tests: fail call N, fail a fraction of
 * calls, lose the answer of a call that took effect, truncate a load. `injected` counts
 * what it did, so a test can assert that faults happened at all.
 */
export class FaultyBackend implements Backend {
  private readonly counts: number[]
  private draws = 0
  injected = 0

  constructor(
    readonly inner: Backend,
    private readonly rules: readonly FaultRule[],
    private readonly seed = 'faults',
  ) {
    this.counts = rules.map(() => 0)
  }

  get location(): string {
    return this.inner.location
  }

  get connections(): number {
    return this.inner.connections
  }

  /** A uniform draw in [0, 1) from the seed and a counter: the same run, the same faults. */
  private random(): number {
    const h = createHash('sha256').update(`${this.seed}:${this.draws++}`).digest()
    return h.readUInt32BE(0) / 2 ** 32
  }

  /** The rule that fires on this call, if any (every matching rule counts the call). */
  private fire(op: FaultOp, type: FileType): FaultRule | undefined {
    let fired: FaultRule | undefined
    this.rules.forEach((r, i) => {
      if (r.ops && !r.ops.includes(op)) return
      if (r.types && !r.types.includes(type)) return
      const n = ++this.counts[i]!
      const hit =
        (r.calls?.includes(n) ?? false) || (r.fraction !== undefined && this.random() < r.fraction)
      if (hit && !fired) fired = r
    })
    if (fired) this.injected++
    return fired
  }

  private error(op: FaultOp, rule: FaultRule, what: string): BackendError {
    return new BackendError(`Injected fault: ${op} ${what}.`, rule.permanent ?? false)
  }

  private async call<T>(op: FaultOp, h: Handle, fn: () => Promise<T>): Promise<T> {
    const rule = this.fire(op, h.type)
    if (!rule) return fn()
    if ((rule.effect ?? 'fail') === 'fail') throw this.error(op, rule, h.name)
    await fn()
    throw this.error(op, rule, h.name)
  }

  create(opts?: CallOptions): Promise<void> {
    return this.call('create', { type: 'config', name: 'config' }, () => this.inner.create(opts))
  }

  save(h: Handle, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return this.call('save', h, () => this.inner.save(h, data, opts))
  }

  async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    const rule = this.fire('load', h.type)
    if (!rule) return this.inner.load(h, opts)
    if (rule.effect === 'truncate') {
      const data = await this.inner.load(h, opts)
      return data.subarray(0, Math.max(0, data.length - 1))
    }
    if (rule.effect === 'fail-after') await this.inner.load(h, opts)
    throw this.error('load', rule, h.name)
  }

  stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    return this.call('stat', h, () => this.inner.stat(h, opts))
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const rule = this.fire('list', type)
    let n = 0
    for await (const f of this.inner.list(type, opts)) {
      if (rule && n >= 1) throw this.error('list', rule, type)
      n++
      yield f
    }
    if (rule) throw this.error('list', rule, type)
  }

  remove(h: Handle, opts?: CallOptions): Promise<void> {
    return this.call('remove', h, () => this.inner.remove(h, opts))
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
