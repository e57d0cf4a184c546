import { z } from 'zod'
import {
  ACTIVITY_RESULTS,
  ACTIVITY_STATES,
  ACTIVITY_TYPES,
  ENVIRONMENT_NAME,
  RESTORE_PART,
  SNAPSHOT_STATUSES,
  type ActivityView,
  type BackupView,
  type RestorePreviewView,
} from '../../control/index.js'
import { Timestamp } from './common.js'
import { component } from './registry.js'

export const Activity = component(
  'Activity',
  z.object({
    id: z.string(),
    project: z.string(),
    environment: z.string(),
    type: z.enum(ACTIVITY_TYPES),
    state: z.enum(ACTIVITY_STATES),
    result: z.enum(ACTIVITY_RESULTS).nullable().describe('Set when state is complete.'),
    automated: z.boolean(),
    created_by: z.string().nullable(),
    description: z.string().describe('e.g. "alice created a snapshot of develop-branch"'),
    parameters: z.record(z.string(), z.unknown()),
    snapshot: z.string().nullable(),
    progress: z.object({
      bytes_done: z.number(),
      bytes_total: z.number().nullable(),
      items_done: z.number(),
      items_total: z.number().nullable(),
      phase: z.string().nullable(),
      percent: z.number().nullable(),
    }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    cancel_requested: z.boolean(),
    log_lines: z.number().int(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    updated_at: Timestamp,
    completed_at: Timestamp.nullable(),
  }),
)
export type ActivityJson = z.infer<typeof Activity>

export function activityJson(a: ActivityView): ActivityJson {
  const done = a.state === 'complete' || a.state === 'cancelled' ? a.completedAt : null
  return {
    id: a.id,
    project: a.project,
    environment: a.environment,
    type: a.type,
    state: a.state,
    result: a.state === 'complete' ? a.result : null,
    automated: a.automated,
    created_by: a.createdBy,
    description: a.description,
    parameters: { ...a.parameters },
    snapshot: a.snapshot,
    progress: {
      bytes_done: a.progress.bytesDone,
      bytes_total: a.progress.bytesTotal,
      items_done: a.progress.itemsDone,
      items_total: a.progress.itemsTotal,
      phase: a.progress.phase,
      percent: a.progress.percent,
    },
    error: a.state === 'complete' ? a.error : null,
    cancel_requested: a.cancelRequested,
    log_lines: a.logLines,
    created_at: a.createdAt,
    started_at: a.startedAt,
    updated_at: a.updatedAt,
    completed_at: done,
  }
}

export const LogLine = component(
  'LogLine',
  z.object({ seq: z.number().int(), at: Timestamp, line: z.string() }),
)

export const ActivityQuery = z.object({
  type: z.enum(ACTIVITY_TYPES).optional(),
  state: z.enum(ACTIVITY_STATES).optional(),
  environment: ENVIRONMENT_NAME.optional(),
})

export const Backup = component(
  'Backup',
  z.object({
    id: z.string().describe("restic's short snapshot ID (8 hex digits)"),
    project: z.string(),
    environment: z.string(),
    created_at: Timestamp,
    restorable: z.boolean(),
    expires_at: Timestamp.nullable(),
    automated: z.boolean(),
    live: z.boolean(),
    size: z.number(),
    commit: z.string().nullable(),
    created_by: z.string().nullable(),
    pause_ms: z.number().nullable(),
    status: z.enum(SNAPSHOT_STATUSES),
  }),
)
export const backupJson = (b: BackupView): z.infer<typeof Backup> => ({
  id: b.id,
  project: b.project,
  environment: b.environment,
  created_at: b.createdAt,
  restorable: b.restorable,
  expires_at: b.expiresAt,
  automated: b.automated,
  live: b.live,
  size: b.size,
  commit: b.commit,
  created_by: b.createdBy,
  pause_ms: b.pauseMs,
  status: b.status,
})

export const CreateBackup = z.object({ live: z.boolean().default(false) })
export const RestoreRequest = z.object({
  target: ENVIRONMENT_NAME.optional(),
  only: z.array(RESTORE_PART).max(100).optional(),
})

export const RestorePreview = component(
  'RestorePreview',
  z.object({
    backup: Backup,
    target: z.string(),
    age_ms: z.number(),
    databases: z.array(
      z.object({
        service: z.string(),
        database: z.string(),
        tables: z.number(),
        bytes: z.number(),
        changed_tables: z.number(),
        changed_bytes: z.number(),
      }),
    ),
    mounts: z.array(
      z.object({
        mount: z.string(),
        files: z.number(),
        bytes: z.number(),
        changed_files: z.number(),
        changed_bytes: z.number(),
      }),
    ),
    bytes_to_restore: z.number(),
    estimated_ms: z.number(),
  }),
)
export const restorePreviewJson = (p: RestorePreviewView): z.infer<typeof RestorePreview> => ({
  backup: backupJson(p.backup),
  target: p.target,
  age_ms: p.preview.ageMs,
  databases: p.preview.databases.map((d) => ({
    service: d.service,
    database: d.database,
    tables: d.tables,
    bytes: d.bytes,
    changed_tables: d.changedTables,
    changed_bytes: d.changedBytes,
  })),
  mounts: p.preview.mounts.map((m) => ({
    mount: m.mount,
    files: m.files,
    bytes: m.bytes,
    changed_files: m.changedFiles,
    changed_bytes: m.changedBytes,
  })),
  bytes_to_restore: p.preview.bytesToRestore,
  estimated_ms: p.preview.estimatedMs,
})
