import type { Transaction } from 'kysely'
import type { Repository } from '../repo/index.js'
import type { RepositoryS3Settings } from './repository-settings.js'
import type {
  CreateSnapshotRequest,
  EnvironmentSpec,
  OpContext,
  RestoreCommitPoint,
  RestoreCommitRecord,
  RestorePart,
  RestorePreview,
  RestoreResult,
  SnapshotInfo,
} from '../snapshots/index.js'
import type { Database } from '../store/index.js'

/**
 * What the control plane needs from the snapshots layer (issue 6), declared here by the
 * consumer (STYLE.md, "Dependencies"): the functions of src/snapshots/index.ts fit it
 * structurally, and tests may pass a fake that fails on purpose.
 */
export interface SnapshotsPort {
  createEnvironmentSnapshot(
    repo: Repository,
    env: EnvironmentSpec,
    req: CreateSnapshotRequest,
    ctx: OpContext,
  ): Promise<SnapshotInfo>
  /** Newest first. */
  listEnvironmentSnapshots(
    repo: Repository,
    project: string,
    environment: string,
    signal?: AbortSignal,
  ): Promise<SnapshotInfo[]>
  previewRestore(
    repo: Repository,
    snapshotId: string,
    target: EnvironmentSpec,
    only: readonly RestorePart[],
    ctx: OpContext,
  ): Promise<RestorePreview>
  restoreEnvironment(
    repo: Repository,
    snapshotId: string,
    target: EnvironmentSpec,
    only: readonly RestorePart[],
    ctx: OpContext,
    opts?: { readonly commitPoint?: RestoreCommitPoint },
  ): Promise<RestoreResult>
  /** Forgets the snapshots and prunes their data. */
  deleteSnapshots(repo: Repository, snapshotIds: readonly string[], ctx: OpContext): Promise<void>
  /**
   * Removes what a restore killed before its switch left behind, and finishes one killed
   * past its decision (`decided`, the record its commit point kept).
   */
  cleanupStaging(env: EnvironmentSpec, ctx: OpContext, decided?: RestoreCommitRecord): Promise<void>
}

/** A job as the queue carries it: the activity to run, and where it must run. */
export interface ActivityJob {
  readonly activityId: string
  /** The environment's worker label; null for any worker. */
  readonly label: string | null
}

/**
 * Where new activities go to be run (src/jobs implements it). `prepare` is called before the
 * transaction that inserts the activity (creating a queue takes locks that must not wait on
 * that transaction); `enqueue` is called inside it, so that the job exists exactly when the
 * activity does (pg-boss writes its job row through `trx`); `wake` is called after the
 * commit so an in-process runner starts at once instead of at its next poll.
 */
export interface ActivityQueuePort {
  prepare(label: string | null): Promise<void>
  enqueue(trx: Transaction<Database>, job: ActivityJob): Promise<void>
  wake(): void
}

/**
 * A project's repository: where it lives, its password, and the project's own S3 settings
 * (credentials…), which take precedence over the server's defaults.
 */
export interface RepositoryTarget {
  readonly location: string
  readonly password: string
  readonly s3?: RepositoryS3Settings
}

/** Opens a project's repository; the caller closes it. */
export type RepositoryOpener = (
  target: RepositoryTarget,
  signal?: AbortSignal,
) => Promise<Repository>

/** Creates a project's repository; the caller closes it. */
export type RepositoryInitializer = (
  target: RepositoryTarget,
  signal?: AbortSignal,
) => Promise<Repository>
