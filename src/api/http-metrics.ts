import type { MetricFamily } from '../control/index.js'
import { EventLoopDelay } from './event-loop-delay.js'

/** Upper bounds of the request-duration histogram, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

/**
 * Request counters and durations of this process, by method, route pattern and status
 * (route patterns, not paths: IDs in paths would make the label set unbounded), and the
 * delay of its event loop, which every request of the process waits through.
 */
export class HttpMetrics {
  private readonly requests = new Map<string, number>()
  private readonly durations = new Map<string, { buckets: number[]; sum: number; count: number }>()

  constructor(private readonly loop: EventLoopDelay = new EventLoopDelay()) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = JSON.stringify([method, route, String(status)])
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    const dkey = JSON.stringify([method, route])
    const d = this.durations.get(dkey) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) d.buckets[i]!++
    })
    d.sum += seconds
    d.count++
    this.durations.set(dkey, d)
  }

  families(): MetricFamily[] {
    const parse = (k: string): string[] => JSON.parse(k) as string[]
    return [
      ...this.loop.families(),
      {
        name: 'coffer_http_requests_total',
        help: 'HTTP requests served by this process.',
        type: 'counter',
        samples: [...this.requests].map(([k, v]) => {
          const [method = '', route = '', status = ''] = parse(k)
          return { name: 'coffer_http_requests_total', labels: { method, route, status }, value: v }
        }),
      },
      {
        name: 'coffer_http_request_duration_seconds',
        help: 'HTTP request durations in this process.',
        type: 'counter',
        samples: [...this.durations].flatMap(([k, d]) => {
          const [method = '', route = ''] = parse(k)
          return [
            ...BUCKETS.map((b, i) => ({
              name: 'coffer_http_request_duration_seconds_bucket',
              labels: { method, route, le: String(b) },
              value: d.buckets[i]!,
            })),
            {
              name: 'coffer_http_request_duration_seconds_bucket',
              labels: { method, route, le: '+Inf' },
              value: d.count,
            },
            {
              name: 'coffer_http_request_duration_seconds_sum',
              labels: { method, route },
              value: d.sum,
            },
            {
              name: 'coffer_http_request_duration_seconds_count',
              labels: { method, route },
              value: d.count,
            },
          ]
        }),
      },
    ]
  }
}

/** Prometheus text exposition format 0.0.4. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const esc = (v: string): string =>
    v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
  const lines: string[] = []
  for (const f of families) {
    lines.push(
      `# HELP ${f.name} ${f.help}`,
      `# TYPE ${f.name} ${f.type === 'counter' && f.name.endsWith('_seconds') ? 'histogram' : f.type}`,
    )
    for (const s of f.samples) {
      const labels = s.labels
        ? `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}="${esc(v)}"`)
            .join(',')}}`
        : ''
      lines.push(`${s.name}${labels} ${Number.isFinite(s.value) ? s.value : 0}`)
    }
  }
  return lines.join('\n') + '\n'
}
