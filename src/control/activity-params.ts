import { z } from 'zod'
import type { RestorePart } from '../snapshots/index.js'

/** The parts a restore may be limited to (the snapshots layer's RestorePart), as a schema. */
export const RESTORE_PART = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('services') }),
  z.object({ kind: z.literal('mounts') }),
  z.object({ kind: z.literal('database'), service: z.string(), database: z.string() }),
  z.object({
    kind: z.literal('table'),
    service: z.string(),
    database: z.string(),
    table: z.string(),
  }),
  z.object({ kind: z.literal('mount'), mount: z.string(), path: z.string().optional() }),
]) satisfies z.ZodType<RestorePart>

/** Why snapshots are deleted: a person, the 7-day expiry, the thinning, a schedule's retention. */
export const DELETE_REASONS = ['user', 'expiry', 'thinning', 'retention'] as const
export type DeleteReason = (typeof DELETE_REASONS)[number]

const SNAPSHOT_REF = z.object({ id: z.string(), fullId: z.string() })

export const BACKUP_PARAMS = z.object({
  live: z.boolean(),
  scheduleId: z.string().optional(),
})
export const RESTORE_PARAMS = z.object({
  snapshot: SNAPSHOT_REF,
  /** The environment the snapshot was taken of (the activity belongs to the target). */
  source: z.string(),
  only: z.array(RESTORE_PART),
})
export const DELETE_PARAMS = z.object({
  snapshots: z.array(SNAPSHOT_REF).min(1),
  reason: z.enum(DELETE_REASONS),
})

export type BackupParams = z.infer<typeof BACKUP_PARAMS>
export type RestoreParams = z.infer<typeof RESTORE_PARAMS>
export type DeleteParams = z.infer<typeof DELETE_PARAMS>

/** An activity's parameters, by type (stored as JSON in `activities.params`). */
export type ActivityParams =
  | { readonly type: 'environment.backup'; readonly params: BackupParams }
  | { readonly type: 'environment.restore'; readonly params: RestoreParams }
  | { readonly type: 'environment.backup.delete'; readonly params: DeleteParams }

/** Parses the stored parameters of an activity of `type`. */
export function parseParams(type: ActivityParams['type'], json: string): ActivityParams {
  const raw: unknown = JSON.parse(json)
  switch (type) {
    case 'environment.backup':
      return { type, params: BACKUP_PARAMS.parse(raw) }
    case 'environment.restore':
      return { type, params: RESTORE_PARAMS.parse(raw) }
    case 'environment.backup.delete':
      return { type, params: DELETE_PARAMS.parse(raw) }
    default:
      return type satisfies never
  }
}
