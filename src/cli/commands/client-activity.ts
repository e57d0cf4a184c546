import { InvalidInputError } from '../../errors.js'
import {
  ActivityJson,
  clientCommand,
  connect,
  formatDate,
  LogLineJson,
  parseAs,
  parseFormat,
  pickColumns,
  projectPath,
  renderProperties,
  renderRows,
  target,
  type Activity,
  type Column,
  type CommonFlags,
} from '../client/index.js'

const COLUMNS = (dateFmt: string): Column<Activity>[] => [
  { key: 'id', header: 'ID', value: (a) => a.id },
  { key: 'created', header: 'Created', value: (a) => formatDate(a.created_at, dateFmt) },
  { key: 'description', header: 'Description', value: (a) => a.description },
  {
    key: 'progress',
    header: 'Progress',
    value: (a) =>
      a.state === 'complete' ? '100%' : a.progress.percent === null ? '' : `${a.progress.percent}%`,
  },
  { key: 'state', header: 'State', value: (a) => a.state },
  { key: 'result', header: 'Result', value: (a) => a.result ?? '' },
  { key: 'environment', header: 'Environment', value: (a) => a.environment },
  { key: 'type', header: 'Type', value: (a) => a.type },
  { key: 'snapshot', header: 'Snapshot', value: (a) => a.snapshot ?? '' },
  { key: 'completed', header: 'Completed', value: (a) => formatDate(a.completed_at, dateFmt) },
]

interface ListFlags extends CommonFlags {
  readonly type?: string
  readonly state?: string
  readonly limit?: string
  readonly all?: boolean
  readonly columns?: string[]
  readonly format?: string
  readonly header?: boolean
  readonly dateFmt?: string
}

const TYPE_ALIASES: Record<string, string> = {
  backup: 'environment.backup',
  restore: 'environment.restore',
  delete: 'environment.backup.delete',
}

export const list = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<ListFlags>()
  const format = parseFormat(o.format)
  const columns = pickColumns(
    COLUMNS(o.dateFmt ?? 'c'),
    ['id', 'created', 'description', 'progress', 'state', 'result'],
    o.columns,
  )
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const limit = Number(o.limit ?? '10')
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidInputError('limit', '--limit must be a whole number from 1 to 1000.')
  const type = o.type ? (TYPE_ALIASES[o.type] ?? o.type) : undefined
  const path = t.environment
    ? projectPath(t.project, `/environments/${encodeURIComponent(t.environment)}/activities`)
    : projectPath(t.project, '/activities')
  const query = { type, state: o.state, limit }
  const raw = o.all
    ? await client.all(path, { query })
    : ((await client.request('GET', path, { query })) as { items: unknown[] }).items
  const items = raw.map((a) => parseAs(ActivityJson, a, 'activity'))
  if (format === 'json') {
    ctx.out(JSON.stringify(items, null, 2))
    return
  }
  if (items.length === 0) {
    ctx.err('No activities found')
    return
  }
  process.stdout.write(
    renderRows(
      columns.map((c) => c.header),
      items.map((a) => columns.map((c) => c.value(a))),
      format,
      o.header !== false,
    ),
  )
})

const activityPath = (project: string, id: string, rest = ''): string =>
  projectPath(project, `/activities/${encodeURIComponent(id)}${rest}`)

export const get = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { property?: string; format?: string }>()
  const format = parseFormat(o.format)
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const a = parseAs(
    ActivityJson,
    await client.request('GET', activityPath(t.project, String(args[0]))),
    'activity',
  )
  if (o.property) {
    const v = (a as Record<string, unknown>)[o.property]
    if (v === undefined)
      throw new InvalidInputError(
        'property',
        `Unknown property "${o.property}": choose from ${Object.keys(a).join(', ')}.`,
      )
    ctx.out(typeof v === 'string' ? v : JSON.stringify(v))
    return
  }
  if (format === 'json') {
    ctx.out(JSON.stringify(a, null, 2))
    return
  }
  const pairs = Object.entries(a).map(
    ([k, v]) => [k, v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)] as const,
  )
  process.stdout.write(renderProperties(pairs, format))
})

export const log = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { follow?: boolean; timestamps?: boolean }>()
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const id = String(args[0])
  const show = (l: { at: string; line: string }): void =>
    ctx.out(o.timestamps ? `[${formatDate(l.at)}] ${l.line}` : l.line)
  if (o.follow) {
    // The stream sends every line from the first, then the new ones, and ends with the activity.
    for await (const ev of client.events(activityPath(t.project, id, '/stream'), {
      signal: ctx.signal,
    })) {
      if (ev.event === 'log') show(parseAs(LogLineJson, JSON.parse(ev.data), 'log line'))
      if (ev.event === 'end') break
    }
    return
  }
  let after = 0
  for (;;) {
    const page = (await client.request('GET', activityPath(t.project, id, '/log'), {
      query: { after, limit: 1000 },
    })) as { items: unknown[]; next_cursor: string | null }
    for (const raw of page.items) {
      const l = parseAs(LogLineJson, raw, 'log line')
      show(l)
      after = l.seq
    }
    if (!page.next_cursor) return
  }
})

export const cancel = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const a = parseAs(
    ActivityJson,
    await client.request('POST', activityPath(t.project, String(args[0]), '/cancel')),
    'activity',
  )
  if (!ctx.quiet)
    ctx.err(
      a.state === 'cancelled'
        ? `The activity ${a.id} was cancelled.`
        : `Cancellation of the activity ${a.id} was requested; it stops at the next safe point.`,
    )
})
