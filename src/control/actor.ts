import { CofferError } from '../errors.js'

/** The person behind a request, as authentication found them. */
export interface Actor {
  readonly userId: string
  readonly name: string
  readonly operator: boolean
  /** Client address, for the audit log and the login throttle. */
  readonly address?: string
  /** The token or session that authenticated the request. */
  readonly tokenId?: string
  readonly via: 'token' | 'session'
}

/** Refuses anyone but an operator (platform-wide administration). */
export function requireOperator(actor: Actor, what: string): void {
  if (!actor.operator)
    throw new CofferError('operator_required', `You must be an operator to ${what}.`)
}
