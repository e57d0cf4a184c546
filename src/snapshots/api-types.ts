import type { EnvironmentType } from './environment.js'

/** A Coffer snapshot as the layers above see it (from restic's snapshot and coffer.json). */
export interface SnapshotInfo {
  /** restic's short ID (8 hex digits): what users see and pass back. */
  readonly id: string
  readonly fullId: string
  readonly project: string
  readonly environment: string
  readonly environmentType?: EnvironmentType
  readonly createdAt: Date
  readonly live: boolean
  readonly automated: boolean
  /** Bytes of the environment's data in the snapshot (databases and files). */
  readonly size: number
  readonly commit?: string
  readonly createdBy?: string
  readonly pauseMs?: number
}

export interface CreateSnapshotRequest {
  readonly live: boolean
  readonly automated: boolean
  readonly createdBy?: string
}

/** Parts of an environment a restore may be limited to. */
export type RestorePart =
  | { readonly kind: 'services' }
  | { readonly kind: 'mounts' }
  | { readonly kind: 'database'; readonly service: string; readonly database: string }
  | {
      readonly kind: 'table'
      readonly service: string
      readonly database: string
      readonly table: string
    }
  | { readonly kind: 'mount'; readonly mount: string; readonly path?: string }

export interface RestorePreview {
  readonly snapshot: SnapshotInfo
  readonly ageMs: number
  readonly databases: readonly {
    service: string
    database: string
    tables: number
    bytes: number
    changedTables: number
    /** Bytes of the tables that will be reloaded. */
    changedBytes: number
  }[]
  readonly mounts: readonly {
    mount: string
    files: number
    bytes: number
    changedFiles: number
    changedBytes: number
  }[]
  /** Bytes that will actually be rewritten (what differs from the environment now). */
  readonly bytesToRestore: number
  readonly estimatedMs: number
}

export interface RestoreResult {
  readonly snapshot: SnapshotInfo
  readonly switchMs: number
  readonly tablesReloaded: number
  readonly tablesKept: number
  readonly filesWritten: number
  readonly filesKept: number
  readonly verified?: boolean
}

/**
 * An environment restore's decision (docs/OPERATIONS.md, "Restores are all or nothing"): written, durably,
 * when every part is staged and the hold is taken, before any part commits or switches.
 * Names only what a restart needs to find the parts again — the database services' switch
 * journals and the mounts' staging IDs — never a connection detail or secret.
 */
export interface RestoreCommitRecord {
  readonly version: 1
  readonly services: readonly { readonly name: string; readonly journal: string }[]
  readonly mounts: readonly { readonly name: string; readonly id: string }[]
}

/**
 * Where the environment's restore decision is kept (the control plane: a column of the
 * environment). `record` must be durable when it resolves: from then on the restore is
 * finished, by `cleanupStaging` with the record if the process dies.
 */
export interface RestoreCommitPoint {
  record(r: RestoreCommitRecord): Promise<void>
  clear(): Promise<void>
}
