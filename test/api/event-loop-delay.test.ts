import { setImmediate as nextIteration } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { EventLoopDelay } from '../../src/api/event-loop-delay.js'

/** Keeps the thread busy, as a long synchronous section of an activity would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy on purpose
  }
}

/** Lets the loop run its timers phase (the monitor's tick) once more: two check phases on. */
async function letTimersRun(): Promise<void> {
  await nextIteration()
  await nextIteration()
}

describe('EventLoopDelay', () => {
  let monitor: EventLoopDelay | undefined
  afterEach(() => monitor?.stop())

  it('reports a block of the thread in its maximum, and the quantiles in order', async () => {
    monitor = new EventLoopDelay()
    // The monitor records the interval between two of its ticks: the first overdue tick
    // only starts the count, the second one records the whole second block.
    for (let i = 0; i < 2; i++) {
      blockFor(100)
      await letTimersRun()
    }
    const [family] = monitor.families()
    expect(family?.name).toBe('coffer_event_loop_delay_seconds')
    const byQuantile = new Map(family!.samples.map((s) => [s.labels?.quantile, s.value]))
    expect([...byQuantile.keys()]).toEqual(['0.5', '0.99', '1'])
    const [p50, p99, max] = [byQuantile.get('0.5')!, byQuantile.get('0.99')!, byQuantile.get('1')!]
    // At least the 100 ms block less the monitor's 10 ms tick (and a margin for clocks).
    expect(max).toBeGreaterThanOrEqual(0.08)
    expect(p50).toBeLessThanOrEqual(p99)
    expect(p99).toBeLessThanOrEqual(max)
  })

  it('starts again after each scrape', async () => {
    monitor = new EventLoopDelay()
    for (let i = 0; i < 2; i++) {
      blockFor(100)
      await letTimersRun()
    }
    monitor.families()
    // Nothing recorded since the scrape: no samples rather than stale ones or zeros.
    expect(monitor.families()[0]!.samples).toEqual([])
  })
})
