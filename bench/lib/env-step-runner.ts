import { measure, type Measured } from './measure.js'

/** What bench/lib/env-step.mjs prints after a step. */
export interface StepReport {
  readonly seconds?: number
  readonly id?: string
  readonly pauseMs?: number
  readonly switchMs?: number
  readonly tablesReloaded?: number
  readonly filesWritten?: number
}

/**
 * Runs steps of the environment layer on repository `repo`, each in its own process
 * (bench/lib/env-step.mjs) so that its peak RSS is its own; a step's time is the one it
 * reports, without Node's start-up.
 */
export function envStepRunner(
  repo: string,
  password: string,
): (op: string, extra: object) => Promise<Measured & { report: StepReport }> {
  return async (op, extra) => {
    const m = await measure('bench/lib/env-step.mjs', [
      op,
      JSON.stringify({ repo, password, ...extra }),
    ])
    const report = JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '{}') as StepReport
    return { ...m, seconds: report.seconds ?? m.seconds, report }
  }
}
