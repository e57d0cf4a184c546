import { describe, expect, it } from 'vitest'
import { interval, nextRun, parseCron, planRetention } from '../../src/control/index.js'

describe('cron', () => {
  const cases = [
    { cron: '0 * * * *', after: '2026-03-08T17:07:01Z', next: '2026-03-08T18:00:00.000Z' },
    { cron: '*/15 * * * *', after: '2026-03-08T17:07:01Z', next: '2026-03-08T17:15:00.000Z' },
    { cron: '30 2 * * *', after: '2026-03-08T17:07:01Z', next: '2026-03-09T02:30:00.000Z' },
    { cron: '0 3 * * 1', after: '2026-03-08T17:07:01Z', next: '2026-03-09T03:00:00.000Z' },
    { cron: '0 0 1 * *', after: '2026-03-08T17:07:01Z', next: '2026-04-01T00:00:00.000Z' },
    { cron: '0 0 29 2 *', after: '2026-03-08T00:00:00Z', next: '2028-02-29T00:00:00.000Z' },
    { cron: '0 0 1 * 0', after: '2026-03-02T00:00:00Z', next: '2026-03-08T00:00:00.000Z' },
    { cron: '5,35 8-10/2 * * *', after: '2026-03-08T08:35:00Z', next: '2026-03-08T10:05:00.000Z' },
    { cron: '0 12 * * 7', after: '2026-03-08T12:00:00Z', next: '2026-03-15T12:00:00.000Z' },
  ]
  it.each(cases)('$cron after $after', ({ cron, after, next }) => {
    expect(nextRun(parseCron(cron), new Date(after)).toISOString()).toBe(next)
  })

  it('measures the interval', () => {
    expect(interval(parseCron('0 * * * *'), new Date('2026-03-08T17:07:01Z'))).toBe(3_600_000)
    expect(interval(parseCron('30 2 * * *'), new Date('2026-03-08T17:07:01Z'))).toBe(86_400_000)
  })

  it.each(['* * * *', '60 * * * *', '* 24 * * *', 'a * * * *', '5-1 * * * *', '0 0 31 2 *'])(
    'refuses %s',
    (cron) => {
      expect(() => nextRun(parseCron(cron), new Date('2026-03-08T00:00:00Z'))).toThrow()
    },
  )
})

describe('retention of a cron schedule', () => {
  const now = new Date('2026-03-20T00:00:00Z')
  const snaps = Array.from({ length: 10 }, (_, i) => ({
    id: `s${i}`,
    created_at: new Date(Date.parse('2026-03-19T00:00:00Z') - i * 86_400_000).toISOString(),
  }))
  it('keeps the newest N', () => {
    expect(planRetention(snaps, { keep_count: 3, keep_days: null }, now).map((s) => s.id)).toEqual([
      's3',
      's4',
      's5',
      's6',
      's7',
      's8',
      's9',
    ])
  })
  it('keeps those younger than D days', () => {
    expect(planRetention(snaps, { keep_count: null, keep_days: 5 }, now).map((s) => s.id)).toEqual([
      's4',
      's5',
      's6',
      's7',
      's8',
      's9',
    ])
  })
  it('keeps what either rule keeps', () => {
    expect(planRetention(snaps, { keep_count: 6, keep_days: 2 }, now).map((s) => s.id)).toEqual([
      's6',
      's7',
      's8',
      's9',
    ])
  })
})
