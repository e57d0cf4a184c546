import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliverDue, schedulerTick, signWebhook } from '../../src/control/index.js'
import { startTestServer, type TestServer } from '../helpers/api-harness.js'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'
import { startSmtpSink, startWebhookReceiver } from './loopback-receivers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const SMTP_PASSWORD = 'smtp-password-Qe47'
const HOOK_TOKEN = 'T01B02-tok-Hk28Zq51Lm'

interface Backup {
  id: string
  restorable: boolean
  status: string
}

describe.each(STORE_DIALECTS_UNDER_TEST)('notifications and schedules on %s', (dialect) => {
  let s: TestServer
  let w: World
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>
  let secret: string
  const shop = '/api/projects/shop'

  const root = (method: string, path: string, body?: unknown) =>
    s.call(method, path, { token: w.tokens.root, ...(body !== undefined ? { body } : {}) })

  /** Runs one scheduler pass and waits for what it started; `where` maps each to its environment. */
  async function tick(): Promise<
    Awaited<ReturnType<typeof schedulerTick>> & { where: Record<string, string> }
  > {
    const report = await schedulerTick(s.coffer.control)
    const where: Record<string, string> = {}
    for (const id of report.started) {
      const a = await s.coffer.control.store.db
        .selectFrom('activities')
        .select(['project_id', 'environment'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
      await s.waitActivity(a.project_id, id, w.tokens.root)
      where[id] = `${a.project_id}/${a.environment}`
    }
    await idle()
    return { ...report, where }
  }

  /** Waits for every activity (deletions the tick queued too) to finish. */
  async function idle(): Promise<void> {
    const busy = await s.coffer.control.store.db
      .selectFrom('activities')
      .select(['id', 'project_id'])
      .where('state', 'in', ['pending', 'in_progress'])
      .execute()
    for (const a of busy) await s.waitActivity(a.project_id, a.id, w.tokens.root)
  }

  async function backups(env: string): Promise<Backup[]> {
    const r = ok(await root('GET', `${shop}/environments/${env}/backups?limit=100`))
    return (r.json as { items: Backup[] }).items
  }

  beforeAll(async () => {
    s = await startTestServer(dialect, `notify-${dialect}`)
    w = await setupWorld(s)
    hook = await startWebhookReceiver([500])
    smtp = await startSmtpSink()
    s.watch.add(SMTP_PASSWORD)
    ok(
      await root('PUT', '/api/settings/smtp', {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'none',
        user: 'mailer',
        password: SMTP_PASSWORD,
        from: 'coffer@example.com',
      }),
    )
    const r = await s.call('POST', `${shop}/notifications`, {
      token: w.tokens.admin,
      // A chat service's webhook: the token is in the path, so the URL itself is a secret.
      body: { kind: 'webhook', target: `${hook.url}/${HOOK_TOKEN}`, on_success: true },
      issuesSecret: true,
    })
    secret = (ok(r, 201).json as { secret: string }).secret
    s.watch.add(secret)
    s.watch.add(HOOK_TOKEN)
    ok(
      await s.call('POST', `${shop}/notifications`, {
        token: w.tokens.admin,
        body: { kind: 'email', target: 'ops@example.com' },
      }),
      201,
    )
    ok(
      await root('PATCH', `${shop}/environments/feature`, {
        hooks: { hold: 'exit 3', release: 'true' },
      }),
    )
  })
  afterAll(async () => {
    expect(s.watch.leaks()).toEqual([])
    await hook.close()
    await smtp.close()
    await s.stop()
  })

  it("shows a webhook's scheme and host only: its URL may hold a token", async () => {
    const r = ok(await s.call('GET', `${shop}/notifications`, { token: w.tokens.admin }))
    const items = (r.json as { items: { kind: string; target: string }[] }).items
    const port = new URL(hook.url).port
    expect(items.map((c) => [c.kind, c.target]).sort()).toEqual([
      ['email', 'ops@example.com'],
      ['webhook', `http://127.0.0.1:${port}/…`],
    ])
  })

  it('never shows the SMTP password', async () => {
    const r = ok(await root('GET', '/api/settings/smtp'))
    expect(r.json).toMatchObject({ user: 'mailer', password_set: true })
  })

  it('notifies a failed backup: a signed webhook retried with backoff, and an e-mail', async () => {
    const r = ok(
      await s.call('POST', `${shop}/environments/feature/backups`, {
        token: w.tokens.admin,
        body: {},
      }),
      202,
    )
    const id = (r.json as { id: string }).id
    expect(await s.waitActivity('shop', id, w.tokens.admin)).toMatchObject({ result: 'failure' })
    expect(await deliverDue(s.coffer.control)).toBe(1) // the e-mail; the receiver said 500
    expect(hook.received).toHaveLength(1)
    expect(await deliverDue(s.coffer.control)).toBe(0) // not before the backoff
    expect(hook.received).toHaveLength(1)
    s.clock.advance(60_000)
    expect(await deliverDue(s.coffer.control)).toBe(1)
    expect(hook.received).toHaveLength(2)
    const got = hook.received[1]!
    expect(got.path).toBe(`/hooks/coffer/${HOOK_TOKEN}`)
    const ts = String(got.headers['x-coffer-timestamp'])
    expect(got.headers['x-coffer-signature']).toBe(signWebhook(secret, ts, got.body))
    expect(JSON.parse(got.body)).toMatchObject({
      event: 'activity.failed',
      project: 'shop',
      environment: 'feature',
      activity: { id, result: 'failure' },
    })
    expect(smtp.mails).toHaveLength(1)
    expect(smtp.mails[0]).toMatchObject({
      from: 'coffer@example.com',
      to: ['ops@example.com'],
      auth: { user: 'mailer', password: SMTP_PASSWORD },
    })
    expect(smtp.mails[0]!.data).toMatch(/^Subject: \[coffer\] /m)
    expect(smtp.mails[0]!.data).toContain('Environment: feature')
  })

  it('notifies a success only to the channels that asked for it', async () => {
    await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    expect(await deliverDue(s.coffer.control)).toBe(1)
    expect(JSON.parse(hook.received.at(-1)!.body)).toMatchObject({ event: 'activity.succeeded' })
    expect(smtp.mails).toHaveLength(1)
  })

  it('runs a cron schedule with its retention, and skips (and logs) a busy environment', async () => {
    const created = ok(
      await s.call('POST', `${shop}/environments/develop/schedules`, {
        token: w.tokens.admin,
        body: { cron: '0 * * * *', keep_count: 2 },
      }),
      201,
    ).json as { id: string }
    const manual = (await backups('develop')).map((b) => b.id)
    const started: string[] = []
    for (let i = 0; i < 4; i++) {
      s.clock.advance(HOUR)
      const report = await tick()
      const mine = report.started.filter((id) => report.where[id] === 'shop/develop')
      expect(mine, `tick ${i}`).toHaveLength(1)
      started.push(...mine)
    }
    await tick() // applies the retention to the last run's snapshot too
    const scheduled = (await backups('develop')).filter((b) => !manual.includes(b.id))
    expect(scheduled).toHaveLength(2)
    // Busy: an activity held in its hook when the next run is due.
    const gate = join(s.dir, 'schedule-gate')
    ok(
      await root('PATCH', `${shop}/environments/develop`, {
        hooks: { hold: `while [ ! -f ${gate} ]; do sleep 0.05; done`, release: 'true' },
      }),
    )
    const held = ok(
      await s.call('POST', `${shop}/environments/develop/backups`, {
        token: w.tokens.admin,
        body: {},
      }),
      202,
    )
    s.clock.advance(HOUR)
    const busy = await schedulerTick(s.coffer.control)
    const startedOnDevelop = busy.started.length
      ? await s.coffer.control.store.db
          .selectFrom('activities')
          .select('id')
          .where('id', 'in', [...busy.started])
          .where('environment', '=', 'develop')
          .execute()
      : []
    expect(startedOnDevelop).toEqual([])
    expect(busy.skipped).toContainEqual({ schedule: created.id, reason: 'busy' })
    expect(s.logs.join('')).toContain('scheduled backup skipped')
    await writeFile(gate, '')
    expect(
      await s.waitActivity('shop', (held.json as { id: string }).id, w.tokens.admin),
    ).toMatchObject({
      result: 'success',
    })
    await idle()
    ok(await root('PATCH', `${shop}/environments/develop`, { hooks: null }))
    const list = ok(await root('GET', `${shop}/environments/develop/schedules`)).json as {
      items: { id: string; last_skipped_at: string | null; last_success_at: string | null }[]
    }
    expect(list.items.find((x) => x.id === created.id)).toMatchObject({
      last_skipped_at: s.clock.now().toISOString(),
      last_success_at: expect.any(String) as unknown,
    })
    ok(await root('DELETE', `${shop}/environments/develop/schedules/${created.id}`), 204)
  })

  it('sounds the dead man’s switch when scheduled backups have failed for twice their interval', async () => {
    const sched = ok(
      await root('POST', `${shop}/environments/feature/schedules`, {
        cron: '0 * * * *',
        keep_count: 3,
      }),
      201,
    ).json as { id: string }
    const sentBefore = hook.received.length
    const mailsBefore = smtp.mails.length
    let alarms: readonly string[] = []
    for (let i = 0; i < 3 && alarms.length === 0; i++) {
      s.clock.advance(HOUR)
      alarms = (await tick()).alarms
    }
    expect(alarms).toContain(sched.id)
    await deliverDue(s.coffer.control)
    const events = hook.received
      .slice(sentBefore)
      .map((h) => JSON.parse(h.body) as { event: string; summary: string })
    expect(events.map((e) => e.event)).toContain('backups.missed')
    expect(
      smtp.mails.slice(mailsBefore).some((m) => /No scheduled backup of feature/.test(m.data)),
    ).toBe(true)
    // One alarm, not one per tick.
    s.clock.advance(HOUR)
    expect((await tick()).alarms).toEqual([])
    ok(await root('DELETE', `${shop}/environments/feature/schedules/${sched.id}`), 204)
  })

  it('expires manual snapshots after 7 days and removes their data', async () => {
    const id = await takeSnapshot(s, w.tokens.admin, 'shop', 'staging')
    s.clock.advance(7 * DAY - HOUR)
    await tick()
    expect((await backups('staging')).find((b) => b.id === id)).toMatchObject({
      restorable: true,
      status: 'available',
    })
    s.clock.advance(2 * HOUR)
    const report = await tick()
    expect(report.deletions).toContainEqual(
      expect.objectContaining({ environment: 'staging', reason: 'expiry' }),
    )
    // The deletion is an activity like any other: wait for it.
    for (;;) {
      const busy = ok(await root('GET', `${shop}/environments/staging`)).json as {
        active_activity: string | null
      }
      if (!busy.active_activity) break
      await s.waitActivity('shop', busy.active_activity, w.tokens.root)
    }
    expect((await backups('staging')).find((b) => b.id === id)).toMatchObject({
      restorable: false,
      status: 'expired',
    })
  })
})
