/**
 * What the snapshots layer is told about an environment: where its data lives. It knows
 * nothing of users, roles or HTTP; the control plane builds this from its records.
 */
export const ENVIRONMENT_TYPES = ['production', 'staging', 'integration'] as const
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number]

export const PLANS = ['starter', 'pro'] as const
export type Plan = (typeof PLANS)[number]

export const DATABASE_MODES = ['logical', 'physical', 'auto'] as const
export type DatabaseMode = (typeof DATABASE_MODES)[number]

export interface DatabaseService {
  /** Service name, the folder under /services/ in the snapshot (e.g. `mysql`). */
  readonly name: string
  readonly kind: 'mysql'
  /** Connection URL with credentials (a secret: never logged, never stored in a snapshot). */
  readonly url: string
  readonly mode?: DatabaseMode
}

export interface Mount {
  /** The mount's name in the application (`pub/media`), its folder under /mounts/. */
  readonly name: string
  /** Directory on this host. */
  readonly path: string
}

export interface MaintenanceHooks {
  /** Shell command run to hold writes (e.g. maintenance mode on); must return quickly. */
  readonly hold?: string
  readonly release?: string
}

export interface EnvironmentSpec {
  readonly project: string
  readonly name: string
  readonly type: EnvironmentType
  readonly services: readonly DatabaseService[]
  readonly mounts: readonly Mount[]
  /** A git checkout whose HEAD commit is recorded with each snapshot. */
  readonly gitDir?: string
  readonly hooks?: MaintenanceHooks
}
