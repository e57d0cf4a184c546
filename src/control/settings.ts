import { z } from 'zod'
import { requireOperator, type Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'
import { SMTP_SECURITY, type SmtpServer } from './notifications/smtp-client.js'

const SMTP_KEY = 'smtp'
const SMTP_PURPOSE = 'settings:smtp'

const STORED_SMTP = z.object({
  host: z.string(),
  port: z.number().int(),
  security: z.enum(SMTP_SECURITY),
  user: z.string().optional(),
  /** Sealed. */
  password: z.string().optional(),
  from: z.string(),
  allowSelfSigned: z.boolean().optional(),
})

/** The SMTP settings as shown: whether a password is set, never the password. */
export interface SmtpSettingsView {
  readonly host: string
  readonly port: number
  readonly security: SmtpServer['security']
  readonly user: string | null
  readonly passwordSet: boolean
  readonly from: string
}

/** The SMTP server notifications go through (unsealed, for sending), or undefined. */
export async function smtpServer(ctx: ControlContext): Promise<SmtpServer | undefined> {
  const row = await ctx.store.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', SMTP_KEY)
    .executeTakeFirst()
  if (!row) return undefined
  const s = STORED_SMTP.parse(JSON.parse(row.value))
  return {
    host: s.host,
    port: s.port,
    security: s.security,
    from: s.from,
    ...(s.user ? { user: s.user } : {}),
    ...(s.password ? { password: ctx.secrets.open(s.password, SMTP_PURPOSE) } : {}),
    ...(s.allowSelfSigned ? { allowSelfSigned: true } : {}),
  }
}

export async function getSmtpSettings(
  actor: Actor,
  ctx: ControlContext,
): Promise<SmtpSettingsView | null> {
  requireOperator(actor, 'see the SMTP settings')
  const s = await smtpServer(ctx)
  if (!s) return null
  return {
    host: s.host,
    port: s.port,
    security: s.security,
    user: s.user ?? null,
    passwordSet: s.password !== undefined,
    from: s.from,
  }
}

/** Sets the SMTP server (operators); the password is sealed under the master key. */
export async function setSmtpSettings(
  actor: Actor,
  input: SmtpServer,
  ctx: ControlContext,
): Promise<SmtpSettingsView> {
  requireOperator(actor, 'change the SMTP settings')
  const stored: z.infer<typeof STORED_SMTP> = {
    host: input.host,
    port: input.port,
    security: input.security,
    from: input.from,
    ...(input.user ? { user: input.user } : {}),
    ...(input.password ? { password: ctx.secrets.seal(input.password, SMTP_PURPOSE) } : {}),
    ...(input.allowSelfSigned ? { allowSelfSigned: true } : {}),
  }
  const value = JSON.stringify(stored)
  await ctx.store.db
    .insertInto('settings')
    .values({ key: SMTP_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute()
  await recordAudit(
    actor,
    { action: 'settings.update', target: 'smtp', detail: { host: input.host } },
    ctx,
  )
  const view = await getSmtpSettings(actor, ctx)
  return view!
}
