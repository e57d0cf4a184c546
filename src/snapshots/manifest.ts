import { z } from 'zod'
import { ENVIRONMENT_TYPES } from './environment.js'

/**
 * `/coffer.json`, the manifest at the root of every Coffer snapshot (docs/FORMAT.md,
 * "Manifest"): what was captured and how, so that listing and previewing a restore need not
 * walk the whole tree. Never holds a secret (no URLs with passwords, no hook commands).
 */
export const MANIFEST_FORMAT = 1

const tableEntry = z.object({
  name: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  hash: z.string(),
  engine: z.string().optional(),
})

const MANIFEST = z.object({
  format: z.literal(MANIFEST_FORMAT),
  project: z.string(),
  environment: z.string(),
  type: z.enum(ENVIRONMENT_TYPES),
  mode: z.enum(['live', 'consistent']),
  automated: z.boolean(),
  createdBy: z.string().optional(),
  createdAt: z.string(),
  commit: z.string().optional(),
  cofferVersion: z.string(),
  pauseMs: z.number().nonnegative().optional(),
  services: z.array(
    z.object({
      name: z.string(),
      kind: z.literal('mysql'),
      engine: z.string().optional(),
      version: z.string().optional(),
      mode: z.enum(['logical', 'physical']).optional(),
      bytes: z.number().int().nonnegative(),
      databases: z.array(
        z.object({
          name: z.string(),
          bytes: z.number().int().nonnegative(),
          tables: z.array(tableEntry),
        }),
      ),
      /** Driver-specific details (binary log position, lock length, …). */
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  mounts: z.array(
    z.object({
      name: z.string(),
      files: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      changedDuringCopy: z.array(z.string()),
    }),
  ),
  totals: z.object({
    bytes: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
  }),
})

export type Manifest = z.infer<typeof MANIFEST>
export type ServiceManifest = Manifest['services'][number]
export type MountManifest = Manifest['mounts'][number]

export function parseManifest(json: unknown): Manifest {
  return MANIFEST.parse(json)
}

export const MANIFEST_PATH = 'coffer.json'
