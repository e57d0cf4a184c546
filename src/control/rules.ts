import type { ErrorCode } from '../errors.js'
import type { EnvironmentType, Plan, Role } from '../store/index.js'

/**
 * Who may do what with snapshots (PRODUCT.md, "Taking a snapshot", "Restoring",
 * "Refusals"): a pure table over plan × environment type × manual/automatic × role. The
 * first matching row decides; no row means allowed. State (inactive, busy, too old) is
 * checked after the table by `stateRefusal`, and busy-ness race-free in the database.
 */
export const SNAPSHOT_ACTIONS = ['create', 'restore', 'delete'] as const
export type SnapshotAction = (typeof SNAPSHOT_ACTIONS)[number]

/** Who asks: a person with a role (or none) on the environment, an operator, the scheduler. */
export type Requester =
  | { readonly kind: 'user'; readonly role: Role | 'none'; readonly operator: boolean }
  | { readonly kind: 'scheduler' }

export interface RuleFacts {
  readonly action: SnapshotAction
  readonly plan: Plan
  readonly environmentType: EnvironmentType
  /** For `create`, the kind of snapshot asked for; else the kind of the snapshot concerned. */
  readonly trigger: 'manual' | 'automatic'
  readonly requester: Requester
}

export type Verdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: ErrorCode; readonly message: string }

const ACTION_WORDS = {
  create: 'create a snapshot',
  restore: 'restore a snapshot',
  delete: 'delete a snapshot',
} as const satisfies Record<SnapshotAction, string>

export const MESSAGES = {
  notAdmin: (a: SnapshotAction) => `You must be an administrator to ${ACTION_WORDS[a]}.`,
  manualNotAllowed:
    'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.',
  restoreAutomatic:
    'Automatic backups of Pro staging and production environments are restored by an operator: ask your platform administrator.',
  deleteAutomatic:
    'Automatic backups of Pro staging and production environments are removed by the retention policy; only an operator can delete one.',
  automaticOnlyScheduled:
    'Automatic backups are taken by the scheduler on Pro staging and production environments only.',
  inactive: 'The environment is not active.',
  busy: 'An activity is currently pending or in progress on the environment.',
  tooOld: (id: string) => `The snapshot ${id} cannot be restored: it is older than 7 days.`,
} as const

type Who = 'scheduler' | 'operator' | 'admin' | 'other'

function who(r: Requester): Who {
  if (r.kind === 'scheduler') return 'scheduler'
  if (r.operator) return 'operator'
  return r.role === 'admin' ? 'admin' : 'other'
}

/** Pro staging and production: backed up automatically, restored by operators. */
function isProtected(plan: Plan, type: EnvironmentType): boolean {
  return plan === 'pro' && (type === 'staging' || type === 'production')
}

interface Row {
  readonly why: string
  readonly when: (f: RuleFacts, w: Who) => boolean
  readonly refuse: (f: RuleFacts) => { code: ErrorCode; message: string }
}

/** The table, in order. Each row names the PRODUCT.md rule it encodes. */
export const RULES: readonly Row[] = [
  {
    why: 'Only a user with the admin role on the environment may create, restore or delete.',
    when: (_, w) => w === 'other',
    refuse: (f) => ({ code: 'not_admin', message: MESSAGES.notAdmin(f.action) }),
  },
  {
    why: 'Pro staging and production do not take manual snapshots (everyone, operators too).',
    when: (f) =>
      f.action === 'create' && f.trigger === 'manual' && isProtected(f.plan, f.environmentType),
    refuse: () => ({ code: 'manual_not_allowed', message: MESSAGES.manualNotAllowed }),
  },
  {
    why: 'Automatic snapshots are taken by the scheduler only.',
    when: (f, w) => f.action === 'create' && f.trigger === 'automatic' && w !== 'scheduler',
    refuse: () => ({ code: 'refused', message: MESSAGES.automaticOnlyScheduled }),
  },
  {
    why: 'Automatic backups of Pro staging/production are restored only by an operator.',
    when: (f, w) =>
      f.action === 'restore' &&
      f.trigger === 'automatic' &&
      isProtected(f.plan, f.environmentType) &&
      w !== 'operator',
    refuse: () => ({ code: 'operator_required', message: MESSAGES.restoreAutomatic }),
  },
  {
    why: 'Automatic backups of Pro staging/production are thinned by policy, not by users.',
    when: (f, w) =>
      f.action === 'delete' &&
      f.trigger === 'automatic' &&
      isProtected(f.plan, f.environmentType) &&
      w !== 'operator' &&
      w !== 'scheduler',
    refuse: () => ({ code: 'operator_required', message: MESSAGES.deleteAutomatic }),
  },
]

/** Decides a request by the table: the first matching row refuses; none matching allows. */
export function decide(facts: RuleFacts): Verdict {
  const w = who(facts.requester)
  for (const row of RULES) {
    if (row.when(facts, w)) return { allowed: false, ...row.refuse(facts) }
  }
  return { allowed: true }
}

export interface StateFacts {
  readonly action: SnapshotAction
  readonly environmentActive: boolean
  /** For restore: the snapshot's short ID and whether it is still restorable. */
  readonly snapshot?: { readonly id: string; readonly restorable: boolean }
}

/**
 * The state refusals that follow the table: an inactive environment takes no snapshot and
 * receives no restore; a manual snapshot past its window is not restored.
 */
export function stateRefusal(f: StateFacts): Verdict {
  if (!f.environmentActive && f.action !== 'delete')
    return { allowed: false, code: 'env_inactive', message: MESSAGES.inactive }
  if (f.action === 'restore' && f.snapshot && !f.snapshot.restorable)
    return { allowed: false, code: 'too_old', message: MESSAGES.tooOld(f.snapshot.id) }
  return { allowed: true }
}
