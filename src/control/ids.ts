import { randomBytes } from 'node:crypto'

/** An activity's ID: 8 hex digits, as the CLI shows it ("Waiting for the activity 7f3a9c21"). */
export type ActivityId = string & { readonly __brand: 'ActivityId' }

export const ACTIVITY_ID = /^[0-9a-f]{8}$/

/** A fresh random activity ID (collisions are retried by the insert). */
export function newActivityId(): ActivityId {
  return randomBytes(4).toString('hex') as ActivityId
}

export function parseActivityId(s: string): ActivityId | undefined {
  return ACTIVITY_ID.test(s) ? (s as ActivityId) : undefined
}

/** A random opaque ID for rows users never type (users, tokens, schedules, channels). */
export function newRowId(): string {
  return randomBytes(8).toString('hex')
}
