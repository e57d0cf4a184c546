import { silentLogger } from '../../src/lib/index.js'
import type { OpContext } from '../../src/snapshots/index.js'

/** An operation context for tests: collects the activity log lines; optional fixed clock. */
export function testContext(
  opts: { now?: () => Date; signal?: AbortSignal } = {},
): OpContext & { lines: string[] } {
  const lines: string[] = []
  return {
    signal: opts.signal ?? new AbortController().signal,
    log: silentLogger,
    now: opts.now ?? (() => new Date()),
    progress: () => {},
    logLine: (l) => lines.push(l),
    lines,
  }
}
