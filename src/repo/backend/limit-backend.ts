import { InvalidInputError } from '../../errors.js'
import type { Backend, CallOptions, FileInfo, FileType, Handle, LoadOptions } from './backend.js'

/**
 * Lets at most `limit` calls run on the inner backend at once; the others wait their turn,
 * first come first served (restic `internal/backend/sema/backend.go`).
 *
 * - Calls on lock files skip the queue, as in restic: refreshing or removing a lock must
 *   not wait behind a backup's uploads, or the lock could go stale.
 * - A listing holds a slot only while it fetches its next entry, never while the consumer
 *   handles one: a consumer that loads each listed file would otherwise wait on itself.
 * - A call waiting for a slot honours its signal and rejects with `signal.reason`.
 *
 * `connections` reports the limit, so callers that size their own concurrency from it
 * (uploads in flight, parallel reads) do not queue more than runs.
 */
export class LimitBackend implements Backend {
  private active = 0
  private readonly waiting: { grant: () => void; signal?: AbortSignal }[] = []
  readonly connections: number

  constructor(
    readonly inner: Backend,
    limit: number = inner.connections,
  ) {
    if (!(limit >= 1))
      throw new InvalidInputError('connections', 'The connection limit must be at least 1.')
    this.connections = limit
  }

  get location(): string {
    return this.inner.location
  }

  /** Resolves once a slot is free (and taken); returns its release. */
  private async acquire(type: FileType, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted()
    if (type === 'locks') return () => {}
    if (this.active < this.connections) {
      this.active++
    } else {
      await new Promise<void>((resolve, reject) => {
        const entry: { grant: () => void; signal?: AbortSignal } = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
          ...(signal ? { signal } : {}),
        }
        const onAbort = (): void => {
          const i = this.waiting.indexOf(entry)
          if (i >= 0) this.waiting.splice(i, 1)
          // The Backend contract: cancellation rejects with the signal's own reason.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(signal?.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.waiting.push(entry)
      })
      // The releasing call handed its slot over: `active` already counts this one.
    }
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next.grant()
      else this.active--
    }
  }

  private async run<T>(
    type: FileType,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const release = await this.acquire(type, signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  create(opts?: CallOptions): Promise<void> {
    return this.run('config', opts?.signal, () => this.inner.create(opts))
  }

  save(h: Handle, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return this.run(h.type, opts?.signal, () => this.inner.save(h, data, opts))
  }

  load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    return this.run(h.type, opts?.signal, () => this.inner.load(h, opts))
  }

  stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    return this.run(h.type, opts?.signal, () => this.inner.stat(h, opts))
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const iterator = this.inner.list(type, opts)[Symbol.asyncIterator]()
    try {
      for (;;) {
        const r = await this.run(type, opts?.signal, () => iterator.next())
        if (r.done) return
        yield r.value
      }
    } finally {
      await iterator.return?.()
    }
  }

  remove(h: Handle, opts?: CallOptions): Promise<void> {
    return this.run(h.type, opts?.signal, () => this.inner.remove(h, opts))
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  toJSON(): { location: string; connections: number } {
    return { location: this.location, connections: this.connections }
  }
}
