import { z } from 'zod'
import { CofferError } from '../../errors.js'

// The API's JSON as the client reads it (docs/API.md, /api/openapi.json). Loose on purpose:
// fields the client does not use may be added by newer servers without breaking it.

export const ActivityJson = z.looseObject({
  id: z.string(),
  project: z.string(),
  environment: z.string(),
  type: z.string(),
  state: z.enum(['pending', 'in_progress', 'complete', 'cancelled']),
  result: z.enum(['success', 'failure']).nullable(),
  automated: z.boolean(),
  created_by: z.string().nullable(),
  description: z.string(),
  snapshot: z.string().nullable(),
  progress: z.looseObject({
    percent: z.number().nullable(),
    phase: z.string().nullable(),
    bytes_done: z.number(),
    bytes_total: z.number().nullable(),
  }),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  cancel_requested: z.boolean(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
})
export type Activity = z.infer<typeof ActivityJson>

export const LogLineJson = z.object({ seq: z.number(), at: z.string(), line: z.string() })
export type LogLine = z.infer<typeof LogLineJson>

export const BackupJson = z.looseObject({
  id: z.string(),
  project: z.string(),
  environment: z.string(),
  created_at: z.string(),
  restorable: z.boolean(),
  expires_at: z.string().nullable(),
  automated: z.boolean(),
  live: z.boolean(),
  size: z.number(),
  commit: z.string().nullable(),
  created_by: z.string().nullable(),
  pause_ms: z.number().nullable(),
  status: z.string(),
})
export type Backup = z.infer<typeof BackupJson>

export const ProjectJson = z.looseObject({
  id: z.string(),
  title: z.string(),
  plan: z.string(),
  repository: z.string(),
  created_at: z.string(),
  role: z.string(),
})
export type Project = z.infer<typeof ProjectJson>

/**
 * How a MySQL service is captured: the API's `services[].mode`. Kept here rather than taken
 * from src/snapshots, which would load the capture code into every client command's start.
 */
export const MYSQL_MODES = ['logical', 'physical', 'auto'] as const
export type MysqlMode = (typeof MYSQL_MODES)[number]

export const EnvironmentJson = z.looseObject({
  project: z.string(),
  name: z.string(),
  type: z.string(),
  status: z.string(),
  services: z.array(z.looseObject({ name: z.string(), kind: z.string(), url: z.string() })),
  mounts: z.array(z.object({ name: z.string(), path: z.string() })),
  git_dir: z.string().nullable(),
  label: z.string().nullable(),
  created_at: z.string(),
  role: z.string(),
  active_activity: z.string().nullable(),
  automatic_backups: z.boolean(),
  can_create_snapshot: z.object({ allowed: z.boolean(), reason: z.string().optional() }),
})
export type Environment = z.infer<typeof EnvironmentJson>

export const RestorePreviewJson = z.looseObject({
  backup: BackupJson,
  target: z.string(),
  age_ms: z.number(),
  databases: z.array(
    z.looseObject({
      service: z.string(),
      database: z.string(),
      tables: z.number(),
      bytes: z.number(),
      changed_tables: z.number(),
    }),
  ),
  mounts: z.array(
    z.looseObject({
      mount: z.string(),
      files: z.number(),
      bytes: z.number(),
      changed_files: z.number(),
      changed_bytes: z.number(),
    }),
  ),
  bytes_to_restore: z.number(),
  estimated_ms: z.number(),
})
export type RestorePreview = z.infer<typeof RestorePreviewJson>

export const UserJson = z.looseObject({
  id: z.string(),
  name: z.string(),
  operator: z.boolean(),
  created_at: z.string(),
})
export const TokenJson = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
})
export const ScheduleJson = z.looseObject({
  id: z.string(),
  kind: z.string(),
  cron: z.string(),
  live: z.boolean(),
  keep_count: z.number().nullable(),
  keep_days: z.number().nullable(),
  next_run_at: z.string(),
  last_run_at: z.string().nullable(),
  last_success_at: z.string().nullable(),
})
export const GrantJson = z.looseObject({
  user: z.string(),
  environment: z.string().nullable(),
  role: z.string(),
  created_at: z.string(),
})
export const LoginResultJson = z.looseObject({
  token: z.string(),
  expires_at: z.string(),
  user: UserJson,
})
export const MeJson = z.looseObject({ user: UserJson, via: z.string() })

/** Parses an API answer; a mismatch means client and server disagree (a bug or a version skew). */
export function parseAs<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const first = r.error.issues[0]
  throw new CofferError(
    'internal',
    `The server's ${what} does not have the expected shape (${first?.path.join('.') ?? ''}: ${first?.message ?? ''}); is the server of another version?`,
  )
}
