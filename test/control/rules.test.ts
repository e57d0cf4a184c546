import { describe, expect, it } from 'vitest'
import {
  decide,
  ENVIRONMENT_TYPES,
  MESSAGES,
  PLANS,
  ROLES,
  SNAPSHOT_ACTIONS,
  stateRefusal,
  type Requester,
  type RuleFacts,
} from '../../src/control/index.js'

const REQUESTERS: readonly (readonly [string, Requester])[] = [
  ['none', { kind: 'user', role: 'none', operator: false }],
  ...ROLES.map((role) => [role, { kind: 'user', role, operator: false }] as const),
  ['operator', { kind: 'user', role: 'none', operator: true }],
  ['scheduler', { kind: 'scheduler' }],
]

/**
 * PRODUCT.md's rules restated independently of the table, as the oracle of the matrix:
 * the table is tested against this over every combination.
 */
function expected(f: RuleFacts, who: string): string | undefined {
  const protectedEnv = f.plan === 'pro' && f.environmentType !== 'integration'
  const admin = who === 'admin' || who === 'operator' || who === 'scheduler'
  if (!admin) return MESSAGES.notAdmin(f.action)
  if (f.action === 'create' && f.trigger === 'manual' && protectedEnv)
    return MESSAGES.manualNotAllowed
  if (f.action === 'create' && f.trigger === 'automatic' && who !== 'scheduler')
    return MESSAGES.automaticOnlyScheduled
  if (f.action === 'restore' && f.trigger === 'automatic' && protectedEnv && who !== 'operator')
    return MESSAGES.restoreAutomatic
  if (f.action === 'delete' && f.trigger === 'automatic' && protectedEnv && who === 'admin')
    return MESSAGES.deleteAutomatic
  return undefined
}

const cases = PLANS.flatMap((plan) =>
  ENVIRONMENT_TYPES.flatMap((environmentType) =>
    SNAPSHOT_ACTIONS.flatMap((action) =>
      (['manual', 'automatic'] as const).flatMap((trigger) =>
        REQUESTERS.map(([who, requester]) => ({
          name: `${plan} ${environmentType} ${action} ${trigger} by ${who}`,
          who,
          facts: { plan, environmentType, action, trigger, requester } satisfies RuleFacts,
        })),
      ),
    ),
  ),
)

describe('the rule table', () => {
  it.each(cases)('$name', ({ facts, who }) => {
    const v = decide(facts)
    const want = expected(facts, who)
    if (want === undefined) expect(v).toEqual({ allowed: true })
    else expect(v).toMatchObject({ allowed: false, message: want })
  })

  it('uses the exact refusal sentences of PRODUCT.md', () => {
    expect(MESSAGES.notAdmin('create')).toBe('You must be an administrator to create a snapshot.')
    expect(MESSAGES.notAdmin('restore')).toBe('You must be an administrator to restore a snapshot.')
    expect(MESSAGES.notAdmin('delete')).toBe('You must be an administrator to delete a snapshot.')
    expect(MESSAGES.inactive).toBe('The environment is not active.')
    expect(MESSAGES.busy).toBe(
      'An activity is currently pending or in progress on the environment.',
    )
    expect(MESSAGES.manualNotAllowed).toBe(
      'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.',
    )
    expect(MESSAGES.tooOld('5d1e0b7a')).toBe(
      'The snapshot 5d1e0b7a cannot be restored: it is older than 7 days.',
    )
  })

  it('gives each refusal its code', () => {
    const base = { plan: 'pro', environmentType: 'production', trigger: 'manual' } as const
    expect(
      decide({
        ...base,
        action: 'create',
        requester: { kind: 'user', role: 'viewer', operator: false },
      }),
    ).toMatchObject({ code: 'not_admin' })
    expect(
      decide({
        ...base,
        action: 'create',
        requester: { kind: 'user', role: 'admin', operator: false },
      }),
    ).toMatchObject({ code: 'manual_not_allowed' })
    expect(
      decide({
        ...base,
        trigger: 'automatic',
        action: 'restore',
        requester: { kind: 'user', role: 'admin', operator: false },
      }),
    ).toMatchObject({ code: 'operator_required' })
  })
})

describe('state refusals', () => {
  const cases = [
    {
      name: 'inactive create',
      f: { action: 'create', environmentActive: false },
      code: 'env_inactive',
    },
    {
      name: 'inactive restore',
      f: { action: 'restore', environmentActive: false },
      code: 'env_inactive',
    },
    {
      name: 'inactive delete is allowed',
      f: { action: 'delete', environmentActive: false },
      code: undefined,
    },
    {
      name: 'too old',
      f: {
        action: 'restore',
        environmentActive: true,
        snapshot: { id: '5d1e0b7a', restorable: false },
      },
      code: 'too_old',
    },
    {
      name: 'restorable',
      f: {
        action: 'restore',
        environmentActive: true,
        snapshot: { id: '5d1e0b7a', restorable: true },
      },
      code: undefined,
    },
  ] as const
  it.each(cases)('$name', ({ f, code }) => {
    const v = stateRefusal(f)
    if (code) expect(v).toMatchObject({ allowed: false, code })
    else expect(v.allowed).toBe(true)
  })
})
