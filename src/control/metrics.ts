import type { ControlContext } from './context.js'

/** One Prometheus sample: name, labels, value. */
export interface Sample {
  readonly name: string
  readonly labels?: Readonly<Record<string, string>>
  readonly value: number
}

export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly samples: readonly Sample[]
}

/**
 * Metrics computed from the store, so every process (server or worker) reports the same
 * figures whoever ran the activities: activities by type and result, their durations,
 * bytes captured, pause lengths, and what is running now.
 */
export async function storeMetrics(ctx: ControlContext): Promise<MetricFamily[]> {
  const db = ctx.store.db
  const byResult = await db
    .selectFrom('activities')
    .select(['type', 'state', 'result', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['type', 'state', 'result'])
    .execute()
  const finished = await db
    .selectFrom('activities')
    .select(['type', 'started_at', 'completed_at'])
    .where('state', '=', 'complete')
    .where('started_at', 'is not', null)
    .execute()
  const snaps = await db
    .selectFrom('snapshots')
    .select([
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.sum<number>('size').as('bytes'),
      (eb) => eb.fn.sum<number>('pause_ms').as('pause'),
      (eb) => eb.fn.count<number>('pause_ms').as('paused'),
      (eb) => eb.fn.max<number>('pause_ms').as('max_pause'),
    ])
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
  const durations = new Map<string, { sum: number; count: number }>()
  for (const f of finished) {
    const ms = Date.parse(f.completed_at ?? '') - Date.parse(f.started_at ?? '')
    if (!Number.isFinite(ms)) continue
    const d = durations.get(f.type) ?? { sum: 0, count: 0 }
    d.sum += ms / 1000
    d.count++
    durations.set(f.type, d)
  }
  return [
    {
      name: 'coffer_activities_total',
      help: 'Activities by type, state and result.',
      type: 'counter',
      samples: byResult.map((r) => ({
        name: 'coffer_activities_total',
        labels: { type: r.type, state: r.state, result: r.result ?? '' },
        value: Number(r.n),
      })),
    },
    {
      name: 'coffer_activity_duration_seconds',
      help: 'Time from start to end of finished activities (sum and count per type).',
      type: 'counter',
      samples: [...durations].flatMap(([type, d]) => [
        { name: 'coffer_activity_duration_seconds_sum', labels: { type }, value: d.sum },
        { name: 'coffer_activity_duration_seconds_count', labels: { type }, value: d.count },
      ]),
    },
    {
      name: 'coffer_snapshots',
      help: 'Snapshots known to the catalog (not deleted).',
      type: 'gauge',
      samples: [{ name: 'coffer_snapshots', value: Number(snaps?.n ?? 0) }],
    },
    {
      name: 'coffer_snapshot_bytes',
      help: 'Bytes of environment data in the snapshots (before deduplication).',
      type: 'gauge',
      samples: [{ name: 'coffer_snapshot_bytes', value: Number(snaps?.bytes ?? 0) }],
    },
    {
      name: 'coffer_pause_seconds',
      help: 'Write pauses of consistent snapshots (sum, count, max).',
      type: 'gauge',
      samples: [
        { name: 'coffer_pause_seconds_sum', value: Number(snaps?.pause ?? 0) / 1000 },
        { name: 'coffer_pause_seconds_count', value: Number(snaps?.paused ?? 0) },
        { name: 'coffer_pause_seconds_max', value: Number(snaps?.max_pause ?? 0) / 1000 },
      ],
    },
  ]
}

/** Whether the store answers (for /healthz). */
export async function storeHealthy(ctx: ControlContext): Promise<boolean> {
  try {
    await ctx.store.db.selectFrom('settings').select('key').limit(1).execute()
    return true
  } catch {
    return false
  }
}
