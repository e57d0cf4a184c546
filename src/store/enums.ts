/**
 * The closed sets whose values the store holds. Each `as const` list gives the type, the
 * CHECK constraint of its column (migrations), the input validation and the OpenAPI enum
 * (STYLE.md, "Types"). PLANS and ENVIRONMENT_TYPES mirror the snapshots layer's lists (a
 * test keeps them equal): the store may import nothing above it.
 */
export const PLANS = ['starter', 'pro'] as const
export type Plan = (typeof PLANS)[number]

export const ENVIRONMENT_TYPES = ['production', 'staging', 'integration'] as const
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number]

export const ENVIRONMENT_STATUSES = ['active', 'inactive'] as const
export type EnvironmentStatus = (typeof ENVIRONMENT_STATUSES)[number]

/** Roles on a project or environment, weakest first. */
export const ROLES = ['viewer', 'contributor', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const ACTIVITY_TYPES = [
  'environment.backup',
  'environment.restore',
  'environment.backup.delete',
] as const
export type ActivityType = (typeof ACTIVITY_TYPES)[number]

export const ACTIVITY_STATES = ['pending', 'in_progress', 'complete', 'cancelled'] as const
export type ActivityState = (typeof ACTIVITY_STATES)[number]

/** States in which an activity occupies its environment (at most one per environment). */
export const BUSY_STATES = ['pending', 'in_progress'] as const satisfies readonly ActivityState[]

export const ACTIVITY_RESULTS = ['success', 'failure'] as const
export type ActivityResult = (typeof ACTIVITY_RESULTS)[number]

export const TOKEN_KINDS = ['api', 'session'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

export const SCHEDULE_KINDS = ['automatic', 'cron'] as const
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number]

export const CHANNEL_KINDS = ['webhook', 'email'] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const
export type DeliveryState = (typeof DELIVERY_STATES)[number]
