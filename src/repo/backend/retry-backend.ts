import {
  handleName,
  type Backend,
  type CallOptions,
  type FileInfo,
  type FileType,
  type Handle,
  type LoadOptions,
} from './backend.js'
import {
  DEFAULT_RETRY,
  gaveUp,
  isRetryable,
  pause,
  withRetries,
  type RetryPolicy,
} from './retry-policy.js'

/**
 * Retries the calls of any backend that fail transiently (`BackendError` with
 * `permanent: false`: 5xx, 429, timeouts, resets, unverified uploads), with exponential
 * backoff and full jitter (restic `internal/backend/retry`, kopia
 * `repo/blob/retrying/retrying_storage.go`). Permanent errors (not found, access denied,
 * a file shorter than asked) and anything that is not a BackendError pass through at once.
 *
 * - `save` is sent again whole: names are content hashes and the inner backend's save is
 *   atomic, so a repeat after a lost answer stores the same bytes.
 * - `load` (whole or a range) is repeated; a truncated answer is transient in every backend.
 * - `list` restarts after a failure and skips names it already yielded, so a consumer sees
 *   each file once; attempts count anew whenever a restart got further than the last one.
 * - Every wait honours the call's signal; an aborted call rejects with `signal.reason`, and
 *   a call made with an aborted signal is not attempted at all.
 *
 * Concurrency: as the inner backend. Wrap a LimitBackend in this one (not the reverse), so
 * that a call waiting out its backoff does not hold a connection slot.
 */
export class RetryBackend implements Backend {
  constructor(
    readonly inner: Backend,
    private readonly policy: RetryPolicy = {},
  ) {}

  get location(): string {
    return this.inner.location
  }

  get connections(): number {
    return this.inner.connections
  }

  create(opts?: CallOptions): Promise<void> {
    return withRetries(
      'create the repository',
      () => this.inner.create(opts),
      this.policy,
      opts?.signal,
    )
  }

  save(h: Handle, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void> {
    return withRetries(
      `save ${handleName(h)}`,
      () => this.inner.save(h, data, opts),
      this.policy,
      opts?.signal,
    )
  }

  load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    return withRetries(
      `load ${handleName(h)}`,
      () => this.inner.load(h, opts),
      this.policy,
      opts?.signal,
    )
  }

  stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    return withRetries(
      `stat ${handleName(h)}`,
      () => this.inner.stat(h, opts),
      this.policy,
      opts?.signal,
    )
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    const max = this.policy.maxAttempts ?? DEFAULT_RETRY.maxAttempts
    const seen = new Set<string>()
    let attempt = 1
    for (;;) {
      const before = seen.size
      try {
        for await (const f of this.inner.list(type, opts)) {
          if (seen.has(f.name)) continue
          seen.add(f.name)
          yield f
        }
        return
      } catch (e) {
        // Only the inner listing's failures land here: a consumer that throws or breaks
        // ends this generator through `return`, which skips the catch.
        if (signal?.aborted) throw signal.reason
        if (!isRetryable(e)) throw e
        if (seen.size > before) attempt = 1
        if (attempt >= max) throw gaveUp(e, attempt)
        await pause(`list ${type}`, attempt, e, this.policy, signal)
        attempt++
      }
    }
  }

  remove(h: Handle, opts?: CallOptions): Promise<void> {
    return withRetries(
      `remove ${handleName(h)}`,
      () => this.inner.remove(h, opts),
      this.policy,
      opts?.signal,
    )
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  toJSON(): { location: string } {
    return { location: this.location }
  }
}
