/**
 * A counting semaphore: `run` starts `fn` when fewer than `limit` runs are in flight and
 * waits otherwise. Used where work is discovered recursively (a directory walk) and a
 * fixed pool of workers over one iterable does not fit.
 */
export class Limiter {
  private active = 0
  private readonly waiting: (() => void)[] = []
  /** Producers waiting in `room` for the queue to shorten. */
  private readonly producers: (() => void)[] = []

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`)
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
    try {
      return await fn()
    } finally {
      this.active--
      this.waiting.shift()?.()
      for (const wake of this.producers.splice(0)) wake()
    }
  }

  /**
   * Resolves once fewer than `queued` runs wait for a slot: a producer that awaits it before
   * each `run` stays at most that far ahead of the work, and what it holds for the runs not
   * yet started (a walk's file stats, paths and closures) stays bounded.
   */
  async room(queued: number): Promise<void> {
    while (this.waiting.length >= queued)
      await new Promise<void>((resolve) => this.producers.push(resolve))
  }
}
