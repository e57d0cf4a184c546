import type { Logger } from '../lib/index.js'
import type { Progress } from '../capture/index.js'

/**
 * Passed last to every operation of this layer: cancellation, logging, the clock, progress,
 * and `logLine`, the activity log users read (sentences, no secrets).
 */
export interface OpContext {
  readonly signal: AbortSignal
  readonly log: Logger
  readonly now: () => Date
  readonly progress: (p: Progress) => void
  readonly logLine: (line: string) => void
}
