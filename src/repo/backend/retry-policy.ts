import { BackendError } from '../../errors.js'
import { silentLogger, type Logger } from '../../lib/index.js'

/** When and how long to wait before trying a failed backend call again. */
export interface RetryPolicy {
  /** Attempts in all, the first one included (default 8). */
  readonly maxAttempts?: number
  /** Ceiling of the first wait (default 250 ms); it doubles per attempt… */
  readonly baseDelayMs?: number
  /** …up to this (default 15 s). */
  readonly maxDelayMs?: number
  /** Jitter source, uniform in [0, 1) (default Math.random; tests pin it). */
  readonly random?: () => number
  /** Waits `ms`, or rejects with `signal.reason` once aborted (tests pass one that returns). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Told about each retry (tests count them; progress may show them). */
  readonly onRetry?: (event: RetryEvent) => void
  readonly log?: Logger
}

export interface RetryEvent {
  /** `save data/3f/3f2a…`, `list index`. */
  readonly what: string
  /** The attempt that failed, from 1. */
  readonly attempt: number
  readonly delayMs: number
  readonly error: BackendError
}

export const DEFAULT_RETRY = {
  maxAttempts: 8,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
} as const

/** Whether a failure is worth another attempt: a BackendError that is not permanent. */
export function isRetryable(e: unknown): e is BackendError {
  return e instanceof BackendError && !e.permanent
}

/**
 * Runs `fn` until it succeeds, it fails permanently, the attempts run out, or `signal`
 * aborts. Waits are exponential with full jitter (a uniform draw below min(max, base·2^n)),
 * which spreads the retries of many concurrent calls (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"). The last transient error is rethrown with the attempt count added
 * to its message; cancellation rejects with `signal.reason`, unwrapped.
 */
export async function withRetries<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted()
  const max = policy.maxAttempts ?? DEFAULT_RETRY.maxAttempts
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (e) {
      if (signal?.aborted) throw signal.reason
      if (!isRetryable(e)) throw e
      if (attempt >= max) throw gaveUp(e, attempt)
      await pause(what, attempt, e, policy, signal)
    }
  }
}

/** Waits before the next attempt, reporting it. */
export async function pause(
  what: string,
  attempt: number,
  error: BackendError,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<void> {
  const base = policy.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs
  const cap = policy.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs
  const delayMs = Math.floor(
    (policy.random ?? Math.random)() * Math.min(cap, base * 2 ** (attempt - 1)),
  )
  const log = policy.log ?? silentLogger
  log.warn({ what, attempt, delayMs, error: error.message }, 'backend call failed; retrying')
  policy.onRetry?.({ what, attempt, delayMs, error })
  await (policy.sleep ?? sleep)(delayMs, signal)
}

/** The final error: the last one's message and code, with how long it was tried. */
export function gaveUp(e: BackendError, attempts: number): BackendError {
  if (attempts <= 1) return e
  return new BackendError(
    `${e.message.replace(/\.$/, '')} (gave up after ${attempts} attempts).`,
    false,
    { code: e.code, cause: e },
  )
}

/** setTimeout as a promise that rejects with `signal.reason` (not a generic AbortError). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The Backend contract: cancellation rejects with the signal's own reason.
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
