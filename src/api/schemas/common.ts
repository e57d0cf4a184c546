import { z } from 'zod'
import { ERROR_CODES } from '../../errors.js'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../control/index.js'
import { component } from './registry.js'

/** RFC 9457 problem details, with Coffer's stable `code` and the user-facing `detail`. */
export const Problem = component(
  'Problem',
  z.object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z
      .string()
      .describe('A finished sentence for the user (PRODUCT.md refusals word for word).'),
    code: z.enum(ERROR_CODES),
    field: z.string().optional().describe('For invalid_input: the field that is wrong.'),
  }),
  'An error (RFC 9457 problem details).',
)

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(512).optional(),
})

/** A page of a list: `next_cursor` (when not null) fetches the next page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() })
}

export const Timestamp = z.string().describe('ISO 8601, UTC')

/** `?flag=true|false` in query strings. */
export const QueryBool = z.enum(['true', 'false']).transform((v) => v === 'true')
