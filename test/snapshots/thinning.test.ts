import { describe, expect, it } from 'vitest'
import { isRestorable, planThinning } from '../../src/snapshots/index.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

describe('planThinning', () => {
  it('keeps the tiers of PRODUCT.md over a simulated year of hourly backups', () => {
    let kept: { time: Date; id: number }[] = []
    const start = Date.UTC(2026, 0, 1)
    let maxKept = 0
    for (let h = 0; h < 365 * 24; h++) {
      const now = new Date(start + h * HOUR)
      kept.push({ time: now, id: h })
      kept = [...planThinning(kept, now).keep]
      maxKept = Math.max(maxKept, kept.length)
      const ages = kept.map((s) => now.getTime() - s.time.getTime())
      // Never anything beyond five months, and the newest is always there.
      expect(Math.max(...ages)).toBeLessThan(153 * DAY)
      expect(kept.at(-1)!.id).toBe(h)
    }
    const now = start + (365 * 24 - 1) * HOUR
    const age = (s: { time: Date }): number => now - s.time.getTime()
    const within = (lo: number, hi: number) => kept.filter((s) => age(s) >= lo && age(s) < hi)
    // Hourly for three days: every one of the last 72 hours.
    expect(within(0, 3 * DAY)).toHaveLength(72)
    // Daily up to seven days: one per calendar day (4 days, maybe one more at the seam).
    expect(within(3 * DAY, 7 * DAY).length).toBeGreaterThanOrEqual(4)
    expect(within(3 * DAY, 7 * DAY).length).toBeLessThanOrEqual(5)
    // Weekly up to six weeks, two-weekly up to twelve, monthly up to five months.
    expect(within(7 * DAY, 42 * DAY).length).toBeGreaterThanOrEqual(5)
    expect(within(7 * DAY, 42 * DAY).length).toBeLessThanOrEqual(6)
    expect(within(42 * DAY, 84 * DAY).length).toBeGreaterThanOrEqual(3)
    expect(within(42 * DAY, 84 * DAY).length).toBeLessThanOrEqual(4)
    expect(within(84 * DAY, 153 * DAY).length).toBeGreaterThanOrEqual(2)
    expect(within(84 * DAY, 153 * DAY).length).toBeLessThanOrEqual(4)
    expect(maxKept).toBeLessThan(100)
  })

  it('does not replace a kept snapshot as newer ones age into its tier', () => {
    const start = Date.UTC(2026, 5, 1)
    let kept: { time: Date }[] = []
    const keptInDailyTier = new Set<number>()
    let churn = 0
    for (let h = 0; h < 10 * 24; h++) {
      const now = new Date(start + h * HOUR)
      kept.push({ time: now })
      const plan = planThinning(kept, now)
      for (const r of plan.remove) {
        const age = now.getTime() - r.time.getTime()
        if (keptInDailyTier.has(r.time.getTime()) && age < 7 * DAY) churn++
      }
      for (const k of plan.keep) {
        const age = now.getTime() - k.time.getTime()
        if (age >= 3 * DAY && age < 7 * DAY) keptInDailyTier.add(k.time.getTime())
      }
      kept = [...plan.keep]
    }
    expect(keptInDailyTier.size).toBeGreaterThan(3)
    expect(churn).toBe(0)
  })
})

describe('isRestorable', () => {
  const now = new Date('2026-03-15T12:00:00Z')
  it.each([
    { created: '2026-03-08T12:00:00Z', automated: false, restorable: true },
    { created: '2026-03-08T11:59:59Z', automated: false, restorable: false },
    { created: '2025-12-01T00:00:00Z', automated: true, restorable: true },
  ])('$created automated=$automated → $restorable', ({ created, automated, restorable }) => {
    expect(isRestorable({ createdAt: new Date(created), automated }, now)).toBe(restorable)
  })
})
