import type { ActivityResult, ActivityRow, ActivityType } from '../store/index.js'
import { parseParams, type ActivityParams } from './activity-params.js'

export interface ActivityProgress {
  readonly bytesDone: number
  readonly bytesTotal: number | null
  readonly itemsDone: number
  readonly itemsTotal: number | null
  readonly phase: string | null
  /** 0–100 when a total is known. */
  readonly percent: number | null
}

interface ActivityBase {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly type: ActivityType
  readonly automated: boolean
  /** The user who started it; null for the scheduler. */
  readonly createdBy: string | null
  /** One line for people: "alice created a snapshot of develop-branch". */
  readonly description: string
  readonly parameters: ActivityParams['params']
  /** The snapshot created, restored or deleted (short ID), once known. */
  readonly snapshot: string | null
  readonly progress: ActivityProgress
  readonly cancelRequested: boolean
  readonly logLines: number
  readonly createdAt: string
  readonly startedAt: string | null
  readonly updatedAt: string
}

/** An activity: a discriminated union on `state` (a result exists only when complete). */
export type ActivityView = ActivityBase &
  (
    | { readonly state: 'pending' }
    | { readonly state: 'in_progress' }
    | {
        readonly state: 'complete'
        readonly result: ActivityResult
        readonly completedAt: string
        readonly error: { readonly code: string; readonly message: string } | null
      }
    | { readonly state: 'cancelled'; readonly completedAt: string }
  )

/** The one-line description the CLI prints ("Waiting for the activity X (…):"). */
export function describeActivity(row: ActivityRow, p: ActivityParams): string {
  const who = row.created_by ?? 'the scheduler'
  switch (p.type) {
    case 'environment.backup':
      return row.automated
        ? `${who} created an automatic snapshot of ${row.environment}`
        : `${who} created a snapshot of ${row.environment}`
    case 'environment.restore':
      return p.params.source === row.environment
        ? `${who} restored the snapshot ${p.params.snapshot.id} of ${row.environment}`
        : `${who} restored the snapshot ${p.params.snapshot.id} of ${p.params.source} to ${row.environment}`
    case 'environment.backup.delete': {
      const n = p.params.snapshots.length
      const what = n === 1 ? `the snapshot ${p.params.snapshots[0]!.id}` : `${n} snapshots`
      const why = p.params.reason === 'expiry' ? 'expired ' : ''
      return n === 1
        ? `${who} deleted ${why}${what} of ${row.environment}`
        : `${who} deleted ${n} ${why}snapshots of ${row.environment}`
    }
    default:
      return p satisfies never
  }
}

export function activityView(row: ActivityRow): ActivityView {
  const p = parseParams(row.type, row.params)
  const percent =
    row.bytes_total && row.bytes_total > 0
      ? Math.min(100, Math.round((row.bytes_done / row.bytes_total) * 100))
      : row.items_total && row.items_total > 0
        ? Math.min(100, Math.round((row.items_done / row.items_total) * 100))
        : row.state === 'complete'
          ? 100
          : null
  const base: ActivityBase = {
    id: row.id,
    project: row.project_id,
    environment: row.environment,
    type: row.type,
    automated: row.automated === 1,
    createdBy: row.created_by,
    description: describeActivity(row, p),
    parameters: p.params,
    snapshot: row.snapshot_id,
    progress: {
      bytesDone: row.bytes_done,
      bytesTotal: row.bytes_total,
      itemsDone: row.items_done,
      itemsTotal: row.items_total,
      phase: row.phase,
      percent,
    },
    cancelRequested: row.cancel_requested === 1,
    logLines: row.log_count,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  }
  switch (row.state) {
    case 'pending':
    case 'in_progress':
      return { ...base, state: row.state }
    case 'complete':
      return {
        ...base,
        state: 'complete',
        result: row.result ?? 'failure',
        completedAt: row.completed_at ?? row.updated_at,
        error:
          row.result === 'failure'
            ? {
                code: row.error_code ?? 'internal',
                message: row.error_message ?? 'The activity failed.',
              }
            : null,
      }
    case 'cancelled':
      return { ...base, state: 'cancelled', completedAt: row.completed_at ?? row.updated_at }
    default:
      return row.state satisfies never
  }
}
