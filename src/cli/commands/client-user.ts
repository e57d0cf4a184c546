import { InvalidInputError } from '../../errors.js'
import {
  askHidden,
  clientCommand,
  connect,
  envPath,
  envTarget,
  formatDate,
  GrantJson,
  parseAs,
  projectPath,
  readStdin,
  ScheduleJson,
  target,
  TokenJson,
  UserJson,
  type ClientContext,
  type CommonFlags,
} from '../client/index.js'
import { printList, type ListingFlags } from './client-listing.js'

async function newPassword(o: { passwordStdin?: boolean }, ctx: ClientContext) {
  if (o.passwordStdin) return readStdin()
  if (!ctx.canPrompt) return undefined
  const a = await askHidden('Password for the new user: ', ctx.signal)
  const b = await askHidden('Again: ', ctx.signal)
  if (a !== b) throw new InvalidInputError('password', 'The two passwords differ.')
  return a
}

export const userCreate = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { passwordStdin?: boolean; operator?: boolean }>()
  const password = await newPassword(o, ctx)
  const client = await connect(ctx)
  const u = parseAs(
    UserJson,
    await client.request('POST', '/api/users', {
      body: {
        name: String(args[0]),
        ...(password ? { password } : {}),
        ...(o.operator ? { operator: true } : {}),
      },
    }),
    'user',
  )
  if (!ctx.quiet) ctx.err(`Created the user ${u.name}${u.operator ? ' (operator)' : ''}.`)
})

type UserRow = { name: string; operator: boolean; created_at: string }

export const userList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const client = await connect(ctx)
  const items = (await client.all('/api/users')).map((u) => parseAs(UserJson, u, 'user'))
  printList<UserRow>(
    items,
    [
      { key: 'name', header: 'Name', value: (u) => u.name },
      { key: 'operator', header: 'Operator', value: (u) => String(u.operator) },
      { key: 'created', header: 'Created', value: (u) => formatDate(u.created_at) },
    ],
    ['name', 'operator'],
    o,
    'No users found',
    ctx,
  )
})

export const userDelete = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const name = String(args[0])
  if (!o.yes)
    throw new InvalidInputError('yes', `Deleting the user ${name} needs --yes to confirm.`)
  const client = await connect(ctx)
  await client.request('DELETE', `/api/users/${encodeURIComponent(name)}`)
  if (!ctx.quiet) ctx.err(`Deleted the user ${name}.`)
})

export const userGrant = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { role: string }>()
  const t = await target({ ...o, environment: undefined }, ctx)
  const user = String(args[0])
  const client = await connect(ctx)
  const g = parseAs(
    GrantJson,
    await client.request('PUT', projectPath(t.project, `/access/${encodeURIComponent(user)}`), {
      body: { role: o.role, ...(o.environment ? { environment: o.environment } : {}) },
    }),
    'grant',
  )
  if (!ctx.quiet)
    ctx.err(
      `${g.user} is ${g.role} of ${g.environment ? `the environment ${g.environment} of ` : ''}the project ${t.project}.`,
    )
})

export const userRevoke = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const t = await target({ ...o, environment: undefined }, ctx)
  const user = String(args[0])
  const client = await connect(ctx)
  await client.request('DELETE', projectPath(t.project, `/access/${encodeURIComponent(user)}`), {
    query: { environment: o.environment },
  })
  if (!ctx.quiet)
    ctx.err(
      `${user} has no role of their own on ${o.environment ? `the environment ${o.environment} of ` : ''}the project ${t.project} any more.`,
    )
})

export const accessList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const t = await target({ ...o, environment: undefined }, ctx)
  const client = await connect(ctx)
  const items = (await client.all(projectPath(t.project, '/access'))).map((g) =>
    parseAs(GrantJson, g, 'grant'),
  )
  printList(
    items,
    [
      { key: 'user', header: 'User', value: (g) => g.user },
      { key: 'role', header: 'Role', value: (g) => g.role },
      { key: 'environment', header: 'Environment', value: (g) => g.environment ?? '(all)' },
    ],
    ['user', 'role', 'environment'],
    o,
    'No roles found',
    ctx,
  )
})

export const tokenCreate = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { expiresInDays?: string }>()
  const client = await connect(ctx)
  const days = o.expiresInDays ? Number(o.expiresInDays) : undefined
  if (days !== undefined && !Number.isInteger(days))
    throw new InvalidInputError('expires-in-days', '--expires-in-days must be a whole number.')
  const r = (await client.request('POST', '/api/tokens', {
    body: { name: String(args[0]), ...(days ? { expires_in_days: days } : {}) },
  })) as { token?: unknown; info?: unknown }
  const info = parseAs(TokenJson, r.info, 'token')
  // The one command that prints a token: the user asked for it, and it is shown only once.
  if (!ctx.quiet) ctx.err(`Created the API token ${info.name} (${info.id}); it is shown only once:`)
  ctx.out(String(r.token))
})

export const tokenList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const client = await connect(ctx)
  const items = (await client.all('/api/tokens')).map((t) => parseAs(TokenJson, t, 'token'))
  printList(
    items,
    [
      { key: 'id', header: 'ID', value: (t) => t.id },
      { key: 'name', header: 'Name', value: (t) => t.name },
      { key: 'kind', header: 'Kind', value: (t) => t.kind },
      { key: 'created', header: 'Created', value: (t) => formatDate(t.created_at) },
      { key: 'last_used', header: 'Last used', value: (t) => formatDate(t.last_used_at) },
      { key: 'expires', header: 'Expires', value: (t) => formatDate(t.expires_at) },
    ],
    ['id', 'name', 'kind', 'created', 'expires'],
    o,
    'No tokens found',
    ctx,
  )
})

export const tokenRevoke = clientCommand(async (_cmd, args, ctx) => {
  const client = await connect(ctx)
  const id = String(args[0])
  await client.request('DELETE', `/api/tokens/${encodeURIComponent(id)}`)
  if (!ctx.quiet) ctx.err(`Revoked the token ${id}.`)
})

export const scheduleCreate = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { live?: boolean; keepCount?: string; keepDays?: string }>()
  const t = await envTarget(o, ctx)
  const whole = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidInputError(flag, `--${flag} must be a whole number above 0.`)
    return n
  }
  const keepCount = whole(o.keepCount, 'keep-count')
  const keepDays = whole(o.keepDays, 'keep-days')
  // The server says the same in the API's field names; say it in the flags' here.
  if (keepCount === undefined && keepDays === undefined)
    throw new InvalidInputError(
      'keep-count',
      'A schedule needs a retention: --keep-count, --keep-days or both.',
    )
  const client = await connect(ctx)
  const s = parseAs(
    ScheduleJson,
    await client.request('POST', envPath(t, '/schedules'), {
      body: {
        cron: String(args[0]),
        ...(o.live ? { live: true } : {}),
        ...(keepCount ? { keep_count: keepCount } : {}),
        ...(keepDays ? { keep_days: keepDays } : {}),
      },
    }),
    'schedule',
  )
  if (!ctx.quiet)
    ctx.err(
      `Created the schedule ${s.id} of ${t.environment}; next run ${formatDate(s.next_run_at)}.`,
    )
})

export const scheduleList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  const items = (await client.all(envPath(t, '/schedules'))).map((s) =>
    parseAs(ScheduleJson, s, 'schedule'),
  )
  printList(
    items,
    [
      { key: 'id', header: 'ID', value: (s) => s.id },
      { key: 'kind', header: 'Kind', value: (s) => s.kind },
      { key: 'cron', header: 'Cron', value: (s) => s.cron },
      { key: 'live', header: 'Live', value: (s) => String(s.live) },
      {
        key: 'retention',
        header: 'Retention',
        value: (s) =>
          [
            s.keep_count !== null ? `${s.keep_count} snapshots` : '',
            s.keep_days !== null ? `${s.keep_days} days` : '',
          ]
            .filter(Boolean)
            .join(', '),
      },
      { key: 'next_run', header: 'Next run', value: (s) => formatDate(s.next_run_at) },
      { key: 'last_success', header: 'Last success', value: (s) => formatDate(s.last_success_at) },
    ],
    ['id', 'kind', 'cron', 'live', 'retention', 'next_run'],
    o,
    'No schedules found',
    ctx,
  )
})

export const scheduleDelete = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  const id = String(args[0])
  await client.request('DELETE', envPath(t, `/schedules/${encodeURIComponent(id)}`))
  if (!ctx.quiet) ctx.err(`Deleted the schedule ${id} of ${t.environment}.`)
})
