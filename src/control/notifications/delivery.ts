import { createHmac } from 'node:crypto'
import { messageOf } from '../../errors.js'
import type { ChannelRow, DeliveryRow } from '../../store/index.js'
import type { ControlContext } from '../context.js'
import { smtpServer } from '../settings.js'
import { channelPurpose, channelTarget } from './channels.js'
import type { NotificationBody } from './events.js'
import { sendMail } from './smtp-client.js'

export const SIGNATURE_HEADER = 'x-coffer-signature'
export const TIMESTAMP_HEADER = 'x-coffer-timestamp'

/**
 * A webhook's signature: `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with the
 * channel's secret, so a receiver checks both origin and freshness (as Stripe and GitHub do).
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

const WEBHOOK_TIMEOUT_MS = 10_000

async function deliverWebhook(
  channel: ChannelRow,
  d: DeliveryRow,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<void> {
  const secret = channel.secret ? ctx.secrets.open(channel.secret, channelPurpose(channel.id)) : ''
  const timestamp = String(Math.floor(ctx.now().getTime() / 1000))
  const body = d.event
  const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)
  const res = await ctx.fetch(channelTarget(channel, ctx), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'coffer-webhook',
      'x-coffer-delivery': d.id,
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
    },
    body,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    redirect: 'error',
  })
  await res.body?.cancel()
  if (!res.ok) throw new Error(`the receiver answered ${res.status}`)
}

async function deliverEmail(
  channel: ChannelRow,
  d: DeliveryRow,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<void> {
  const server = await smtpServer(ctx)
  if (!server) throw new Error('no SMTP server is configured')
  const body = JSON.parse(d.event) as NotificationBody
  const lines = [
    body.summary,
    '',
    `Project: ${body.project}`,
    ...(body.environment ? [`Environment: ${body.environment}`] : []),
    ...(body.activity?.error ? [`Error: ${body.activity.error.message}`] : []),
    `At: ${body.at}`,
  ]
  await sendMail(
    server,
    { to: channel.target, subject: `[coffer] ${body.summary}`, text: lines.join('\n') },
    signal,
  )
}

/**
 * Delivers what is due in the outbox: each delivery is claimed by moving its next attempt
 * forward (exponential backoff) before sending, so two processes never send it at once; a
 * success marks it delivered, the last failed attempt marks it failed. Returns how many
 * were delivered.
 */
export async function deliverDue(ctx: ControlContext, signal?: AbortSignal): Promise<number> {
  const now = ctx.now()
  const due = await ctx.store.db
    .selectFrom('deliveries')
    .innerJoin('channels', 'channels.id', 'deliveries.channel_id')
    .selectAll('deliveries')
    .select([
      'channels.kind',
      'channels.target',
      'channels.target_sealed',
      'channels.secret',
      'channels.project_id',
    ])
    .where('deliveries.state', '=', 'pending')
    .where('deliveries.next_attempt_at', '<=', now.toISOString())
    .orderBy('deliveries.next_attempt_at')
    .limit(50)
    .execute()
  let delivered = 0
  for (const d of due) {
    const attempts = d.attempts + 1
    const next = new Date(now.getTime() + ctx.config.deliveryBackoffMs * 2 ** (attempts - 1))
    const claim = await ctx.store.db
      .updateTable('deliveries')
      .set({ attempts, next_attempt_at: next.toISOString() })
      .where('id', '=', d.id)
      .where('attempts', '=', d.attempts)
      .where('state', '=', 'pending')
      .executeTakeFirst()
    if (Number(claim.numUpdatedRows) === 0) continue
    const channel: ChannelRow = {
      id: d.channel_id,
      project_id: d.project_id,
      kind: d.kind,
      target: d.target,
      target_sealed: d.target_sealed,
      secret: d.secret,
      on_failure: 1,
      on_success: 0,
      created_at: d.created_at,
    }
    try {
      if (channel.kind === 'webhook') await deliverWebhook(channel, d, ctx, signal)
      else await deliverEmail(channel, d, ctx, signal)
      await ctx.store.db
        .updateTable('deliveries')
        .set({ state: 'delivered', delivered_at: ctx.now().toISOString(), last_error: null })
        .where('id', '=', d.id)
        .execute()
      delivered++
    } catch (e) {
      const last = attempts >= ctx.config.deliveryMaxAttempts
      await ctx.store.db
        .updateTable('deliveries')
        .set({ last_error: messageOf(e).slice(0, 500), ...(last ? { state: 'failed' } : {}) })
        .where('id', '=', d.id)
        .execute()
      ctx.log.warn(
        { delivery: d.id, channel: d.channel_id, attempts, reason: messageOf(e), final: last },
        'notification delivery failed',
      )
    }
  }
  return delivered
}
