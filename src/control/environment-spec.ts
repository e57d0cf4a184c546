import { z } from 'zod'
import { CofferError, InvalidInputError } from '../errors.js'
import type {
  DatabaseService,
  EnvironmentSpec,
  MaintenanceHooks,
  Mount,
} from '../snapshots/index.js'
import { assertMountsApart } from '../snapshots/index.js'
import type { EnvironmentRow } from '../store/index.js'
import type { ControlContext } from './context.js'

/** What an environment's sealed column holds: the parts that carry credentials. */
const SECRET_SPEC = z.object({
  services: z.array(
    z.object({
      name: z.string(),
      kind: z.literal('mysql'),
      url: z.string(),
      mode: z.enum(['logical', 'physical', 'auto']).optional(),
    }),
  ),
  hooks: z.object({ hold: z.string().optional(), release: z.string().optional() }).optional(),
})

const MOUNTS = z.array(z.object({ name: z.string(), path: z.string() }))

export function envSecretPurpose(project: string, name: string): string {
  return `environment:${project}:${name}`
}

/** Seals services and hooks for the `secret_spec` column. */
export function sealSecretSpec(
  project: string,
  name: string,
  spec: { services: readonly DatabaseService[]; hooks?: MaintenanceHooks },
  ctx: ControlContext,
): string {
  return ctx.secrets.seal(JSON.stringify(spec), envSecretPurpose(project, name))
}

export function openSecretSpec(
  row: EnvironmentRow,
  ctx: ControlContext,
): { services: DatabaseService[]; hooks?: MaintenanceHooks } {
  const parsed = SECRET_SPEC.parse(
    JSON.parse(ctx.secrets.open(row.secret_spec, envSecretPurpose(row.project_id, row.name))),
  )
  return {
    services: parsed.services.map((s) => ({
      name: s.name,
      kind: s.kind,
      url: s.url,
      ...(s.mode ? { mode: s.mode } : {}),
    })),
    ...(parsed.hooks ? { hooks: parsed.hooks } : {}),
  }
}

export function parseMounts(row: EnvironmentRow): Mount[] {
  return MOUNTS.parse(JSON.parse(row.mounts))
}

export function parseServiceNames(row: EnvironmentRow): string[] {
  return z.array(z.string()).parse(JSON.parse(row.service_names))
}

/** What the snapshots layer is told about an environment (secrets unsealed, in memory only). */
export function environmentSpec(row: EnvironmentRow, ctx: ControlContext): EnvironmentSpec {
  const secret = openSecretSpec(row, ctx)
  return {
    project: row.project_id,
    name: row.name,
    type: row.type,
    services: secret.services,
    mounts: parseMounts(row),
    ...(row.git_dir ? { gitDir: row.git_dir } : {}),
    ...(secret.hooks ? { hooks: secret.hooks } : {}),
  }
}

/** A database URL with its password removed, fit to show. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return 'mysql://(unparsable URL)'
  }
}

// Folders of one or more segments (`pub/media`): no empty segment, no `.` or `..`.
const MOUNT_NAME = /^(?=.{1,200}$)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/

/** Checks services and mounts given by a user; names the offending field. */
export function validateParts(
  services: readonly DatabaseService[],
  mounts: readonly Mount[],
): void {
  const seen = new Set<string>()
  for (const [i, s] of services.entries()) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s.name))
      throw new InvalidInputError(`services[${i}].name`, `Invalid service name "${s.name}".`)
    if (seen.has(`s:${s.name}`))
      throw new InvalidInputError(`services[${i}].name`, `The service ${s.name} is given twice.`)
    seen.add(`s:${s.name}`)
    let url: URL
    try {
      url = new URL(s.url)
    } catch {
      throw new InvalidInputError(
        `services[${i}].url`,
        `The URL of the service ${s.name} does not parse.`,
      )
    }
    if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
      throw new InvalidInputError(
        `services[${i}].url`,
        `The URL of the service ${s.name} must start with mysql://.`,
      )
  }
  for (const [i, m] of mounts.entries()) {
    if (!MOUNT_NAME.test(m.name))
      throw new InvalidInputError(`mounts[${i}].name`, `Invalid mount name "${m.name}".`)
    if (!m.path.startsWith('/'))
      throw new InvalidInputError(
        `mounts[${i}].path`,
        `The path of the mount ${m.name} must be absolute.`,
      )
    if (seen.has(`m:${m.name}`))
      throw new InvalidInputError(`mounts[${i}].name`, `The mount ${m.name} is given twice.`)
    seen.add(`m:${m.name}`)
  }
  assertMountsApart(mounts)
  if (services.length === 0 && mounts.length === 0)
    throw new CofferError('invalid_input', 'An environment needs at least one service or mount.')
}
