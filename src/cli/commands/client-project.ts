import { readFile } from 'node:fs/promises'
import { InvalidInputError } from '../../errors.js'
import {
  clientCommand,
  connect,
  EnvironmentJson,
  envPath,
  envTarget,
  findCheckout,
  formatDate,
  MYSQL_MODES,
  parseAs,
  ProjectJson,
  projectPath,
  readStdin,
  target,
  writeRemoteConfig,
  type CommonFlags,
  type Environment,
  type MysqlMode,
  type Project,
} from '../client/index.js'
import { printList, printObject, type ListingFlags } from './client-listing.js'

const PROJECT_COLUMNS = [
  { key: 'id', header: 'ID', value: (p: Project) => p.id },
  { key: 'title', header: 'Title', value: (p: Project) => p.title },
  { key: 'plan', header: 'Plan', value: (p: Project) => p.plan },
  { key: 'role', header: 'Role', value: (p: Project) => p.role },
  { key: 'created', header: 'Created', value: (p: Project) => formatDate(p.created_at) },
  { key: 'repository', header: 'Repository', value: (p: Project) => p.repository },
]

interface ProjectCreateFlags extends CommonFlags {
  readonly plan: string
  readonly title?: string
  readonly repo?: string
  readonly s3AccessKeyId?: string
  readonly s3SecretStdin?: boolean
  readonly s3Region?: string
  readonly s3BucketLookup?: string
  readonly s3CaFile?: string
  readonly s3StorageClass?: string
}

/**
 * The `repository` of a new project from the flags: its location and its own S3 settings.
 * The secret key comes from standard input, never from the command line (`ps` shows that).
 */
async function repositoryBody(o: ProjectCreateFlags): Promise<Record<string, unknown> | undefined> {
  if (Boolean(o.s3AccessKeyId) !== Boolean(o.s3SecretStdin))
    throw new InvalidInputError(
      's3-access-key-id',
      '--s3-access-key-id and --s3-secret-stdin go together.',
    )
  const s3: Record<string, string> = {}
  if (o.s3AccessKeyId) {
    s3.access_key_id = o.s3AccessKeyId
    s3.secret_access_key = (await readStdin()).trim()
    if (s3.secret_access_key === '')
      throw new InvalidInputError('s3-secret-stdin', 'The S3 secret access key on stdin is empty.')
  }
  if (o.s3Region) s3.region = o.s3Region
  if (o.s3BucketLookup) s3.bucket_lookup = o.s3BucketLookup
  if (o.s3StorageClass) s3.storage_class = o.s3StorageClass
  if (o.s3CaFile) {
    try {
      s3.ca = await readFile(o.s3CaFile, 'utf8')
    } catch (e) {
      throw new InvalidInputError('s3-ca-file', `Cannot read the CA file ${o.s3CaFile}.`, {
        cause: e,
      })
    }
  }
  const withS3 = Object.keys(s3).length > 0
  if (withS3 && !o.repo)
    throw new InvalidInputError('repo', 'The --s3-… options need --repo s3:https://host/bucket.')
  if (!o.repo) return undefined
  return { location: o.repo, ...(withS3 ? { s3 } : {}) }
}

export const projectCreate = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<ProjectCreateFlags>()
  const repository = await repositoryBody(o)
  const client = await connect(ctx)
  const p = parseAs(
    ProjectJson,
    await client.request('POST', '/api/projects', {
      body: {
        id: String(args[0]),
        plan: o.plan,
        ...(o.title ? { title: o.title } : {}),
        ...(repository ? { repository } : {}),
      },
    }),
    'project',
  )
  if (!ctx.quiet) ctx.err(`Created the project ${p.id} (plan: ${p.plan}).`)
})

export const projectList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const client = await connect(ctx)
  const items = (await client.all('/api/projects')).map((p) => parseAs(ProjectJson, p, 'project'))
  printList(items, PROJECT_COLUMNS, ['id', 'title', 'plan', 'role'], o, 'No projects found', ctx)
})

export const projectGet = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { property?: string; format?: string }>()
  const id = typeof args[0] === 'string' ? args[0] : (await target(o, ctx)).project
  const client = await connect(ctx)
  printObject(parseAs(ProjectJson, await client.request('GET', projectPath(id)), 'project'), o, ctx)
})

export const projectDelete = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const id = String(args[0])
  if (!o.yes)
    throw new InvalidInputError('yes', `Deleting the project ${id} needs --yes to confirm.`)
  const client = await connect(ctx)
  await client.request('DELETE', projectPath(id))
  if (!ctx.quiet) ctx.err(`Deleted the project ${id}; its repository stays.`)
})

export const setRemote = clientCommand(async (_cmd, args, ctx) => {
  const project = String(args[0])
  const checkout = await findCheckout(ctx.cwd)
  if (!checkout)
    throw new InvalidInputError(
      'project',
      'This is not a git checkout: run project:set-remote inside the project’s code.',
    )
  // Check that the project exists and is visible before tying the code to it.
  const client = await connect(ctx)
  parseAs(ProjectJson, await client.request('GET', projectPath(project)), 'project')
  const file = await writeRemoteConfig(checkout.root, { project })
  if (!ctx.quiet)
    ctx.err(
      `The code in ${checkout.root} now belongs to the project ${project} (${file}); environment: ${checkout.branch ?? '(no branch checked out)'}.`,
    )
})

const ENV_COLUMNS = [
  { key: 'name', header: 'Name', value: (e: Environment) => e.name },
  { key: 'type', header: 'Type', value: (e: Environment) => e.type },
  { key: 'status', header: 'Status', value: (e: Environment) => e.status },
  { key: 'role', header: 'Role', value: (e: Environment) => e.role },
  { key: 'label', header: 'Label', value: (e: Environment) => e.label ?? '' },
  {
    key: 'mounts',
    header: 'Mounts',
    value: (e: Environment) => e.mounts.map((m) => m.name).join(', '),
  },
  {
    key: 'services',
    header: 'Services',
    value: (e: Environment) => e.services.map((s) => s.name).join(', '),
  },
  {
    key: 'activity',
    header: 'Activity',
    value: (e: Environment) => e.active_activity ?? '',
  },
]

interface EnvFlags extends CommonFlags {
  readonly type?: string
  readonly mysql?: string[]
  readonly mysqlMode?: string
  readonly mount?: string[]
  readonly gitDir?: string
  readonly holdCmd?: string
  readonly releaseCmd?: string
  readonly label?: string
  readonly inactive?: boolean
}

/** `--mysql-mode`: how every `--mysql` service of the command is captured. */
function mysqlMode(o: EnvFlags): MysqlMode {
  const mode = MYSQL_MODES.find((m) => m === (o.mysqlMode ?? 'logical'))
  if (!mode)
    throw new InvalidInputError(
      'mysql-mode',
      `Unknown MySQL mode "${o.mysqlMode}": choose from ${MYSQL_MODES.join(', ')}.`,
    )
  // A mode with nothing to apply to is a mistake in the command, not something to ignore.
  if (o.mysqlMode !== undefined && !o.mysql?.length)
    throw new InvalidInputError('mysql-mode', '--mysql-mode applies to --mysql services: give one.')
  return mode
}

/**
 * `--mount NAME=PATH`; `--mysql URL` (service `mysql`, then `mysql2`, … or `NAME=URL`), each
 * in the `--mysql-mode` mode.
 */
export function environmentBody(o: EnvFlags): Record<string, unknown> {
  const mode = mysqlMode(o)
  const mounts = (o.mount ?? []).map((m) => {
    const eq = m.indexOf('=')
    if (eq <= 0 || eq === m.length - 1)
      throw new InvalidInputError('mount', `--mount wants NAME=PATH, not "${m}".`)
    return { name: m.slice(0, eq), path: m.slice(eq + 1) }
  })
  const services = (o.mysql ?? []).map((v, i) => {
    const m = /^([A-Za-z0-9_-]+)=(.+)$/.exec(v)
    const name = m ? m[1]! : i === 0 ? 'mysql' : `mysql${i + 1}`
    return { name, kind: 'mysql', url: m ? m[2]! : v, mode }
  })
  if (Boolean(o.holdCmd) !== Boolean(o.releaseCmd))
    throw new InvalidInputError('hold-cmd', '--hold-cmd and --release-cmd go together.')
  return {
    ...(o.type ? { type: o.type } : {}),
    ...(o.inactive ? { status: 'inactive' } : {}),
    ...(mounts.length ? { mounts } : {}),
    ...(services.length ? { services } : {}),
    ...(o.gitDir ? { git_dir: o.gitDir } : {}),
    ...(o.holdCmd ? { hooks: { hold: o.holdCmd, release: o.releaseCmd } } : {}),
    ...(o.label ? { label: o.label } : {}),
  }
}

export const environmentCreate = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<EnvFlags>()
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const e = parseAs(
    EnvironmentJson,
    await client.request('POST', projectPath(t.project, '/environments'), {
      body: { name: String(args[0]), ...environmentBody(o) },
    }),
    'environment',
  )
  if (!ctx.quiet)
    ctx.err(`Created the environment ${e.name} of ${e.project} (type: ${e.type}, ${e.status}).`)
})

export const environmentList = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & ListingFlags>()
  const t = await target(o, ctx)
  const client = await connect(ctx)
  const items = (await client.all(projectPath(t.project, '/environments'))).map((e) =>
    parseAs(EnvironmentJson, e, 'environment'),
  )
  printList(items, ENV_COLUMNS, ['name', 'type', 'status'], o, 'No environments found', ctx)
})

export const environmentGet = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags & { property?: string; format?: string }>()
  const flags = typeof args[0] === 'string' ? { ...o, environment: args[0] } : o
  const t = await envTarget(flags, ctx)
  const client = await connect(ctx)
  printObject(
    parseAs(EnvironmentJson, await client.request('GET', envPath(t)), 'environment'),
    o,
    ctx,
  )
})

function envAction(action: 'activate' | 'deactivate', done: string) {
  return clientCommand(async (cmd, args, ctx) => {
    const o = cmd.opts<CommonFlags>()
    const flags = typeof args[0] === 'string' ? { ...o, environment: args[0] } : o
    const t = await envTarget(flags, ctx)
    const client = await connect(ctx)
    await client.request('POST', envPath(t, `/${action}`))
    if (!ctx.quiet) ctx.err(`The environment ${t.environment} is ${done}.`)
  })
}
export const environmentActivate = envAction('activate', 'active')
export const environmentDeactivate = envAction('deactivate', 'inactive')

export const environmentDelete = clientCommand(async (cmd, args, ctx) => {
  const o = cmd.opts<CommonFlags>()
  const flags = typeof args[0] === 'string' ? { ...o, environment: args[0] } : o
  const t = await envTarget(flags, ctx)
  if (!o.yes)
    throw new InvalidInputError(
      'yes',
      `Deleting the environment ${t.environment} needs --yes to confirm.`,
    )
  const client = await connect(ctx)
  await client.request('DELETE', envPath(t))
  if (!ctx.quiet)
    ctx.err(`Deleted the environment ${t.environment}; its snapshots stay in the repository.`)
})
