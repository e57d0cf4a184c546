import { z } from 'zod'

/**
 * Names users type, checked the same way by the API (which also publishes them in OpenAPI)
 * and by the control plane (which other callers reach directly).
 */
export const PROJECT_ID = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and dashes, at most 40')
/** An environment is named after its git branch; `/` is not allowed (it would split URLs). */
export const ENVIRONMENT_NAME = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, dots, dashes, underscores')
export const USER_NAME = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dots, dashes, underscores')
export const PASSWORD = z.string().min(8, 'at least 8 characters').max(1024)
export const LABEL = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
