import { z } from 'zod'
import {
  checkProjectRepository,
  REPOSITORY_HISTORY_MAX_DAYS,
  REPOSITORY_HISTORY_MAX_SAMPLES,
  repositoryHealth,
  repositoryHistory,
  type RepositorySizeSample as SampleView,
} from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import { pageOf, Timestamp } from '../schemas/common.js'
import { component } from '../schemas/registry.js'
import {
  CheckRepositoryBody,
  RepositoryCheck,
  RepositoryHealth,
  repositoryCheckJson,
  repositoryHealthJson,
} from '../schemas/repository.js'
import { ProjectParam } from './project-routes.js'

const RepositorySizeSample = component(
  'RepositorySizeSample',
  z.object({
    taken_at: Timestamp.describe('The minute the figures were taken (seconds zero).'),
    stored_bytes: z.number().describe('Bytes of data packs: what the storage held.'),
    packs: z.number().int(),
    snapshots: z.number().int().describe('Snapshots in the repository then (not expired).'),
    snapshot_bytes: z.number().describe('Their sizes summed: what they would take undeduplicated.'),
  }),
)
const sampleJson = (v: SampleView): z.infer<typeof RepositorySizeSample> => ({
  taken_at: v.takenAt,
  stored_bytes: v.storedBytes,
  packs: v.packs,
  snapshots: v.snapshots,
  snapshot_bytes: v.snapshotBytes,
})
const HistoryQuery = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(REPOSITORY_HISTORY_MAX_DAYS)
    .default(30)
    .describe('How many days back (default 30).'),
})

/**
 * A project's repository: its health (sizes, deduplication, last check), checks, and its size
 * over time.
 */
export const repositoryRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/repository',
    summary: 'The health of a project’s repository: sizes, deduplication, last check (admins)',
    tag: 'projects',
    params: ProjectParam,
    response: RepositoryHealth,
    handler: async ({ actor, params, control, c }) =>
      repositoryHealthJson(
        await repositoryHealth(actor, params.project, control, c.req.raw.signal),
      ),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/repository/check',
    summary: 'Check a project’s repository now and record the result (admins)',
    tag: 'projects',
    params: ProjectParam,
    body: CheckRepositoryBody,
    response: RepositoryCheck,
    handler: async ({ actor, params, body, control, c }) =>
      repositoryCheckJson(
        await checkProjectRepository(
          actor,
          params.project,
          { ...(body.read_data ? { readData: true } : {}) },
          control,
          c.req.raw.signal,
        ),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/repository/history',
    summary: `A project’s repository size over time, oldest first: at most one sample a minute, the newest ${REPOSITORY_HISTORY_MAX_SAMPLES} (admins)`,
    tag: 'projects',
    params: ProjectParam,
    query: HistoryQuery,
    response: pageOf(RepositorySizeSample),
    handler: async ({ actor, params, query, control }) => ({
      items: (await repositoryHistory(actor, params.project, { days: query.days }, control)).map(
        sampleJson,
      ),
      next_cursor: null,
    }),
  }),
]
