import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import type { MetricFamily } from '../control/index.js'

/** The monitor's tick (ms): its timer wakes the loop this often, finer would cost for nothing. */
const RESOLUTION_MS = 10

/** Quantiles reported; 1 is the maximum. */
const QUANTILES = [0.5, 0.99, 1] as const

/**
 * How late this process's event loop runs what is due, from perf_hooks: the time a timer, a
 * request on an open connection or a new connection waited for the one JavaScript thread.
 * New connections feel it most: libuv (≥ 1.45, Node 20) accepts one connection per loop
 * iteration, so while long iterations run (an activity's chunking in this process), new
 * connections wait in the kernel's queue. Reported since the previous scrape, then reset, so
 * a scrape every N seconds shows the last N seconds.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    this.histogram.enable()
  }

  families(): MetricFamily[] {
    const h = this.histogram
    // The histogram records whole intervals between ticks (idle: about RESOLUTION_MS); the
    // delay is what exceeds the tick. Empty (no tick yet): no samples rather than zeros.
    const samples =
      h.count === 0
        ? []
        : QUANTILES.map((q) => ({
            name: 'coffer_event_loop_delay_seconds',
            labels: { quantile: String(q) },
            value:
              Math.max(0, (q === 1 ? h.max : h.percentile(q * 100)) / 1e6 - RESOLUTION_MS) / 1000,
          }))
    h.reset()
    return [
      {
        name: 'coffer_event_loop_delay_seconds',
        help: 'How late the event loop of this process ran what was due, since the previous scrape.',
        type: 'gauge',
        samples,
      },
    ]
  }

  /** Stops sampling (the monitor's timer does not keep the process alive either way). */
  stop(): void {
    this.histogram.disable()
  }
}
