import { z } from 'zod'
import type { RepositoryCheckView, RepositoryHealthView } from '../../control/index.js'
import { Timestamp } from './common.js'
import { component } from './registry.js'

export const RepositoryCheck = component(
  'RepositoryCheck',
  z.object({
    checked_at: Timestamp,
    duration_ms: z.number().int(),
    read_data: z.boolean().describe('Every pack read and verified, not the structure only.'),
    errors: z.number().int(),
    snapshots: z.number().int(),
    packs: z.number().int(),
    packs_read: z.number().int(),
    findings: z.array(z.string()).describe('The first error messages (at most 20).'),
    checked_by: z.string(),
  }),
)
export const repositoryCheckJson = (v: RepositoryCheckView): z.infer<typeof RepositoryCheck> => ({
  checked_at: v.checkedAt,
  duration_ms: v.durationMs,
  read_data: v.readData,
  errors: v.errors,
  snapshots: v.snapshots,
  packs: v.packs,
  packs_read: v.packsRead,
  findings: [...v.findings],
  checked_by: v.checkedBy,
})

export const RepositoryHealth = component(
  'RepositoryHealth',
  z.object({
    project: z.string(),
    location: z.string().describe('Where the repository lives (never its credentials).'),
    stored_bytes: z.number().describe('Bytes of data packs: what the storage holds.'),
    packs: z.number().int(),
    snapshots: z.number().int().describe('Snapshots in the repository (not expired).'),
    snapshot_bytes: z.number().describe('Their sizes summed: what they would take undeduplicated.'),
    deduplication_ratio: z.number().nullable().describe('snapshot_bytes / stored_bytes.'),
    last_check: RepositoryCheck.nullable(),
  }),
)
export const repositoryHealthJson = (
  v: RepositoryHealthView,
): z.infer<typeof RepositoryHealth> => ({
  project: v.project,
  location: v.location,
  stored_bytes: v.storedBytes,
  packs: v.packs,
  snapshots: v.snapshots,
  snapshot_bytes: v.snapshotBytes,
  deduplication_ratio: v.deduplicationRatio,
  last_check: v.lastCheck ? repositoryCheckJson(v.lastCheck) : null,
})

export const CheckRepositoryBody = z
  .object({
    read_data: z
      .boolean()
      .optional()
      .describe('Read and verify every pack (slow: reads the whole repository).'),
  })
  .strict()
