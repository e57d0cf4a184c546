import { z } from 'zod'

/**
 * Named schemas of the API: each becomes `#/components/schemas/<id>` in the OpenAPI
 * description. Route schemas that use them get a `$ref` instead of a copy.
 */
export const apiRegistry = z.registry<{ id: string; description?: string }>()

/** Registers a schema as an OpenAPI component and returns it. */
export function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiRegistry.add(schema, { id, ...(description ? { description } : {}) })
  return schema
}
