import type { Logger } from '../lib/index.js'
import type { ThinningTier } from '../snapshots/index.js'
import type { Store } from '../store/index.js'
import type { PasswordCost } from './passwords.js'
import type {
  ActivityQueuePort,
  RepositoryInitializer,
  RepositoryOpener,
  SnapshotsPort,
} from './ports.js'
import type { SecretBox } from './secret-box.js'

/** Policy settings and limits; every field has a default in `DEFAULT_CONTROL_CONFIG`. */
export interface ControlConfig {
  /**
   * Where new projects get their repository (`<reposBase>/<project>`): a directory or an
   * `s3:` location (`coffer serve --repos`).
   */
  readonly reposBase: string
  readonly passwordCost: PasswordCost
  /** How long a manual snapshot stays restorable (PRODUCT.md: seven days). */
  readonly restoreWindowMs: number
  readonly thinning: readonly ThinningTier[]
  /** Console sessions and login tokens last this long. */
  readonly sessionTtlMs: number
  /** A worker not heard from for this long is dead; its activities are failed. */
  readonly staleWorkerMs: number
  /** Login throttle: failures per user (and per address) in the window before a lock. */
  readonly loginMaxFailuresPerUser: number
  readonly loginMaxFailuresPerAddress: number
  readonly loginWindowMs: number
  /** Webhook and e-mail deliveries are tried this many times, with backoff. */
  readonly deliveryMaxAttempts: number
  readonly deliveryBackoffMs: number
}

export const DEFAULT_CONTROL_CONFIG: Omit<ControlConfig, 'reposBase' | 'thinning'> = {
  passwordCost: { N: 1 << 15, r: 8, p: 1 },
  restoreWindowMs: 7 * 24 * 3_600_000,
  sessionTtlMs: 12 * 3_600_000,
  staleWorkerMs: 60_000,
  loginMaxFailuresPerUser: 5,
  loginMaxFailuresPerAddress: 20,
  loginWindowMs: 15 * 60_000,
  deliveryMaxAttempts: 6,
  deliveryBackoffMs: 2_000,
}

/** Identity of this process as a runner of activities (see src/jobs). */
export interface WorkerIdentity {
  readonly id: string
  /** Labels whose environments this process may run; null in the list = unlabelled ones. */
  readonly labels: readonly (string | null)[]
}

/**
 * Everything the control plane's functions use, passed last (STYLE.md: plain context
 * objects, no container). Built once by `coffer serve` / `coffer worker`.
 */
export interface ControlContext {
  readonly store: Store
  readonly secrets: SecretBox
  readonly queue: ActivityQueuePort
  readonly snapshots: SnapshotsPort
  readonly openRepository: RepositoryOpener
  readonly initRepository: RepositoryInitializer
  /** HTTP client for webhooks (global fetch by default). */
  readonly fetch: typeof fetch
  readonly now: () => Date
  readonly log: Logger
  readonly config: ControlConfig
  /** Key that derives CSRF tokens from sessions (from the master key, never stored). */
  readonly csrfKey: Buffer
}
