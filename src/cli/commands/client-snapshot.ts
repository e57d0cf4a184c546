import { InvalidInputError, NotFoundError } from '../../errors.js'
import {
  adviseNoWait,
  BackupJson,
  ClientExitError,
  clientCommand,
  confirm,
  connect,
  EnvironmentJson,
  envPath,
  envTarget,
  formatDate,
  formatElapsed,
  formatSize,
  parseAs,
  parseFormat,
  pickColumns,
  ProjectJson,
  projectPath,
  renderProperties,
  renderRows,
  RestorePreviewJson,
  waitOrReturn,
  type Backup,
  type ClientContext,
  type Column,
  type CommonFlags,
  type RestorePreview,
} from '../client/index.js'

interface ListFlags extends CommonFlags {
  readonly columns?: string[]
  readonly format?: string
  readonly header?: boolean
  readonly dateFmt?: string
}

const yesNo = (b: boolean): string => (b ? 'true' : 'false')

/** The columns of `snapshot:list`; the first three are the PaaS's default table. */
export function snapshotColumns(dateFmt: string): Column<Backup>[] {
  return [
    { key: 'created', header: 'Created', value: (b) => formatDate(b.created_at, dateFmt) },
    { key: 'id', header: 'Snapshot ID', value: (b) => b.id },
    { key: 'restorable', header: 'Restorable', value: (b) => yesNo(b.restorable) },
    { key: 'size', header: 'Size', value: (b) => formatSize(b.size) },
    { key: 'live', header: 'Live', value: (b) => yesNo(b.live) },
    { key: 'automated', header: 'Automated', value: (b) => yesNo(b.automated) },
    { key: 'expires', header: 'Expires', value: (b) => formatDate(b.expires_at, dateFmt) },
    { key: 'created_by', header: 'Created by', value: (b) => b.created_by ?? '' },
    { key: 'commit', header: 'Commit', value: (b) => b.commit ?? '' },
    { key: 'status', header: 'Status', value: (b) => b.status },
  ]
}
const DEFAULT_COLUMNS = ['created', 'id', 'restorable']

export const create = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & { live?: boolean; wait: boolean }>()
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  adviseNoWait(ctx, o.wait)
  const answer = await client.request('POST', envPath(t, '/backups'), {
    body: { live: o.live === true },
  })
  if (!ctx.quiet && o.wait) ctx.err(`Creating a snapshot of ${t.environment}`)
  const done = await waitOrReturn(client, answer, ctx, o.wait)
  if (done) ctx.out(ctx.quiet ? (done.snapshot ?? '') : `Snapshot name: ${done.snapshot ?? ''}`)
})

export const list = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<ListFlags>()
  const format = parseFormat(o.format)
  const columns = pickColumns(snapshotColumns(o.dateFmt ?? 'c'), DEFAULT_COLUMNS, o.columns)
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  const backups = (await client.all(envPath(t, '/backups'))).map((b) =>
    parseAs(BackupJson, b, 'snapshot'),
  )
  if (format === 'json') {
    ctx.out(JSON.stringify(backups, null, 2))
    return
  }
  if (backups.length === 0) {
    ctx.err('No snapshots found')
    return
  }
  if (format === 'table' && !ctx.quiet && o.header !== false) {
    const project = parseAs(
      ProjectJson,
      await client.request('GET', projectPath(t.project)),
      'project',
    )
    const env = parseAs(EnvironmentJson, await client.request('GET', envPath(t)), 'environment')
    ctx.err(
      `Snapshots on the project ${project.title} (${project.id}), environment ${env.name} (type: ${env.type}):`,
    )
  }
  process.stdout.write(
    renderRows(
      columns.map((c) => c.header),
      backups.map((b) => columns.map((c) => c.value(b))),
      format,
      o.header !== false,
    ),
  )
})

export const get = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { property?: string; format?: string; dateFmt?: string }>()
  const format = parseFormat(o.format)
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  const id = String(args[0])
  const b = parseAs(
    BackupJson,
    await client.request('GET', envPath(t, `/backups/${encodeURIComponent(id)}`)),
    'snapshot',
  )
  if (o.property) {
    const value = (b as Record<string, unknown>)[o.property]
    if (value === undefined)
      throw new InvalidInputError(
        'property',
        `Unknown property "${o.property}": choose from ${Object.keys(b).join(', ')}.`,
      )
    ctx.out(typeof value === 'string' ? value : JSON.stringify(value))
    return
  }
  if (format === 'json') {
    ctx.out(JSON.stringify(b, null, 2))
    return
  }
  const pairs = Object.entries(b).map(
    ([k, v]) => [k, v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)] as const,
  )
  process.stdout.write(renderProperties(pairs, format))
})

/** Without a terminal, destructive commands need --yes; on one, the user answers. */
async function agree(
  question: string,
  refusal: string,
  yes: boolean | undefined,
  ctx: ClientContext,
) {
  if (yes) return
  if (!ctx.canPrompt) throw new InvalidInputError('yes', refusal)
  if (!(await confirm(question, ctx.signal))) throw new ClientExitError(1, 'Nothing was changed.')
}

export const remove = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { wait: boolean }>()
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  const id = String(args[0])
  const path = envPath(t, `/backups/${encodeURIComponent(id)}`)
  // Look it up first, so that a wrong ID is "not found" before any question is asked.
  parseAs(BackupJson, await client.request('GET', path), 'snapshot')
  await agree(
    `Are you sure you want to delete the snapshot ${id} of ${t.environment}?`,
    `Deleting a snapshot cannot be undone: add --yes to confirm without a terminal.`,
    o.yes,
    ctx,
  )
  adviseNoWait(ctx, o.wait)
  const answer = await client.request('DELETE', path)
  if (!ctx.quiet && o.wait) ctx.err(`Deleting the snapshot ${id} of ${t.environment}`)
  await waitOrReturn(client, answer, ctx, o.wait)
})

/** `--only` values: services, mounts, database:SERVICE/DB, table:SERVICE/DB/TABLE, mount:NAME[:PATH]. */
export function parseOnly(values: readonly string[]): Record<string, string>[] {
  return values.map((v): Record<string, string> => {
    if (v === 'services' || v === 'mounts') return { kind: v }
    const [kind, rest = ''] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)]
    const parts = rest.split('/')
    if (kind === 'database' && parts.length === 2 && parts.every(Boolean))
      return { kind, service: parts[0]!, database: parts[1]! }
    if (kind === 'table' && parts.length === 3 && parts.every(Boolean))
      return { kind, service: parts[0]!, database: parts[1]!, table: parts[2]! }
    if (kind === 'mount' && rest) {
      const [mount, path] = [rest.split(':')[0]!, rest.split(':').slice(1).join(':')]
      return { kind, mount, ...(path ? { path } : {}) }
    }
    throw new InvalidInputError(
      'only',
      `--only wants services, mounts, database:SERVICE/DB, table:SERVICE/DB/TABLE or mount:NAME[:PATH], not "${v}".`,
    )
  })
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`

/** The preview shown before a restore is confirmed (stderr). */
export function previewLines(p: RestorePreview): string[] {
  const b = p.backup
  const lines = [
    `Snapshot ${b.id} of ${b.environment}, taken ${formatDate(b.created_at)} (${formatElapsed(p.age_ms)} ago), ${formatSize(b.size)}`,
    `Target environment: ${p.target} (its code is not changed)`,
  ]
  if (p.databases.length > 0) {
    lines.push('Databases:')
    for (const d of p.databases)
      lines.push(
        `  ${d.service}/${d.database}: ${plural(d.tables, 'table')}, ${formatSize(d.bytes)}; ${plural(d.changed_tables, 'table')} to restore`,
      )
  }
  if (p.mounts.length > 0) {
    lines.push('Mounts:')
    for (const m of p.mounts)
      lines.push(
        `  ${m.mount}: ${plural(m.files, 'file')}, ${formatSize(m.bytes)}; ${plural(m.changed_files, 'file')} to change (${formatSize(m.changed_bytes)} to write)`,
      )
  }
  lines.push(
    `To restore: ${formatSize(p.bytes_to_restore)}; estimated time: ${p.estimated_ms < 1000 ? 'under a second' : formatElapsed(p.estimated_ms)}`,
  )
  return lines
}

export const restore = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { target?: string; only?: string[]; wait: boolean }>()
  const t = await envTarget(o, ctx)
  const client = await connect(ctx)
  let id = typeof args[0] === 'string' ? args[0] : undefined
  if (!id) {
    const newest = (await client.all(envPath(t, '/backups')))
      .map((b) => parseAs(BackupJson, b, 'snapshot'))
      .find((b) => b.restorable)
    if (!newest)
      throw new NotFoundError(`No restorable snapshot found on the environment ${t.environment}.`)
    id = newest.id
  }
  const only = o.only && o.only.length > 0 ? parseOnly(o.only) : undefined
  const body = { ...(o.target ? { target: o.target } : {}), ...(only ? { only } : {}) }
  const base = envPath(t, `/backups/${encodeURIComponent(id)}`)
  const preview = parseAs(
    RestorePreviewJson,
    await client.request('POST', `${base}/restore-preview`, { body, signal: ctx.signal }),
    'restore preview',
  )
  if (!ctx.quiet) for (const l of previewLines(preview)) ctx.err(l)
  await agree(
    `Are you sure you want to restore the snapshot ${id} to ${preview.target}?`,
    `Restoring replaces the data of ${preview.target}: add --yes to confirm without a terminal.`,
    o.yes,
    ctx,
  )
  adviseNoWait(ctx, o.wait)
  const answer = await client.request('POST', `${base}/restore`, { body })
  if (!ctx.quiet && o.wait) ctx.err(`Restoring the snapshot ${id} to ${preview.target}`)
  await waitOrReturn(client, answer, ctx, o.wait)
})
