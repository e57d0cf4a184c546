import type { MysqlSession } from './session.js'

/**
 * Lends sessions one caller at a time: `use` waits for a free session, runs `fn` on it and
 * gives it back. Sessions that share a snapshot transaction are interchangeable, which is
 * what lets any part of any table be read on any of them.
 */
export class SessionPool {
  private readonly free: MysqlSession[]
  private readonly waiting: ((s: MysqlSession) => void)[] = []

  constructor(readonly sessions: readonly MysqlSession[]) {
    this.free = [...sessions]
  }

  async use<T>(fn: (s: MysqlSession) => Promise<T>): Promise<T> {
    const s = this.free.pop() ?? (await new Promise<MysqlSession>((r) => this.waiting.push(r)))
    try {
      return await fn(s)
    } finally {
      const next = this.waiting.shift()
      if (next) next(s)
      else this.free.push(s)
    }
  }
}
