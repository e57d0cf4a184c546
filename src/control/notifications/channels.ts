import { randomBytes } from 'node:crypto'
import { InvalidInputError, NotFoundError } from '../../errors.js'
import type { ChannelKind, ChannelRow } from '../../store/index.js'
import { projectFor } from '../access.js'
import type { Actor } from '../actor.js'
import { recordAudit } from '../audit.js'
import type { ControlContext } from '../context.js'
import { newRowId } from '../ids.js'

export interface ChannelView {
  readonly id: string
  readonly project: string
  readonly kind: ChannelKind
  readonly target: string
  readonly onFailure: boolean
  readonly onSuccess: boolean
  readonly createdAt: string
}

export function channelPurpose(id: string): string {
  return `channel:${id}`
}

/** Purpose bound to a webhook's sealed URL. */
function urlPurpose(id: string): string {
  return `channel:${id}:url`
}

/**
 * A webhook URL as it may be shown: scheme and host only. Chat services put their token in
 * the path (`/services/T…/B…/…`), and a URL may carry a user and password.
 */
export function webhookDisplay(url: URL): string {
  const more = url.pathname !== '/' || url.search !== '' ? '/…' : ''
  return `${url.protocol}//${url.host}${more}`
}

/** Where a channel delivers: a webhook's full URL (unsealed) or the e-mail address. */
export function channelTarget(
  r: Pick<ChannelRow, 'id' | 'target' | 'target_sealed'>,
  ctx: ControlContext,
): string {
  return r.target_sealed ? ctx.secrets.open(r.target_sealed, urlPurpose(r.id)) : r.target
}

function channelView(r: ChannelRow): ChannelView {
  return {
    id: r.id,
    project: r.project_id,
    kind: r.kind,
    target: r.target,
    onFailure: r.on_failure === 1,
    onSuccess: r.on_success === 1,
    createdAt: r.created_at,
  }
}

export interface ChannelInput {
  readonly kind: ChannelKind
  /** Webhook URL (http or https) or e-mail address. */
  readonly target: string
  readonly onFailure?: boolean
  readonly onSuccess?: boolean
  /** Webhook signing secret; generated when absent. */
  readonly secret?: string
}

/**
 * Adds a notification channel to a project (its admins). Failures are notified by default,
 * successes on request; a webhook gets a signing secret, returned here once.
 */
export async function createChannel(
  actor: Actor,
  projectId: string,
  input: ChannelInput,
  ctx: ControlContext,
): Promise<{ channel: ChannelView; secret: string | null }> {
  await projectFor(actor, projectId, 'admin', ctx, 'manage notifications')
  if (input.kind === 'webhook') {
    let url: URL | undefined
    try {
      url = new URL(input.target)
    } catch {
      url = undefined
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new InvalidInputError('target', 'A webhook needs an http:// or https:// URL.')
  } else if (!/^[^\s@<>]+@[^\s@<>]+$/.test(input.target)) {
    throw new InvalidInputError('target', 'The e-mail address does not look right.')
  }
  const id = newRowId()
  const hook = input.kind === 'webhook' ? new URL(input.target) : undefined
  const secret =
    input.kind === 'webhook' ? (input.secret ?? randomBytes(24).toString('base64url')) : null
  const row: ChannelRow = {
    id,
    project_id: projectId,
    kind: input.kind,
    target: hook ? webhookDisplay(hook) : input.target,
    target_sealed: hook ? ctx.secrets.seal(input.target, urlPurpose(id)) : null,
    secret: secret ? ctx.secrets.seal(secret, channelPurpose(id)) : null,
    on_failure: input.onFailure === false ? 0 : 1,
    on_success: input.onSuccess ? 1 : 0,
    created_at: ctx.now().toISOString(),
  }
  await ctx.store.db.insertInto('channels').values(row).execute()
  await recordAudit(
    actor,
    { action: 'channel.create', project: projectId, target: id, detail: { kind: input.kind } },
    ctx,
  )
  return { channel: channelView(row), secret }
}

export async function listChannels(
  actor: Actor,
  projectId: string,
  ctx: ControlContext,
): Promise<ChannelView[]> {
  await projectFor(actor, projectId, 'admin', ctx, 'manage notifications')
  const rows = await ctx.store.db
    .selectFrom('channels')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at')
    .execute()
  return rows.map(channelView)
}

export async function deleteChannel(
  actor: Actor,
  projectId: string,
  id: string,
  ctx: ControlContext,
): Promise<void> {
  await projectFor(actor, projectId, 'admin', ctx, 'manage notifications')
  const r = await ctx.store.db
    .deleteFrom('channels')
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .executeTakeFirst()
  if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`The channel ${id} does not exist.`)
  await recordAudit(actor, { action: 'channel.delete', project: projectId, target: id }, ctx)
}
