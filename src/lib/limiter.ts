/**
 * A counting semaphore: `run` starts `fn` when fewer than `limit` runs are in flight and
 * waits otherwise. Used where work is discovered recursively (a directory walk) and a
 * fixed pool of workers over one iterable does not fit.
 */
export class Limiter {
  private active = 0
  private readonly waiting: (() => void)[] = []

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
    }
  }
}
