import { z } from 'zod'
import {
  getBackup,
  listBackups,
  previewRestore,
  requestDeleteSnapshot,
  requestRestore,
  requestSnapshot,
} from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import {
  Activity,
  activityJson,
  Backup,
  backupJson,
  CreateBackup,
  RestorePreview,
  restorePreviewJson,
  RestoreRequest,
} from '../schemas/activities.js'
import { PageQuery, pageOf, QueryBool } from '../schemas/common.js'
import { EnvParam } from './project-routes.js'

const BackupParam = EnvParam.extend({ id: z.string().max(64) })
const BASE = '/api/projects/{project}/environments/{environment}/backups'

export const backupRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: BASE,
    summary: 'List the snapshots of an environment, newest first',
    tag: 'backups',
    params: EnvParam,
    query: PageQuery.extend({ automated: QueryBool.optional() }),
    response: pageOf(Backup),
    handler: async ({ actor, params, query, control }) => {
      const page = await listBackups(
        actor,
        params.project,
        params.environment,
        {
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.automated !== undefined ? { automated: query.automated } : {}),
        },
        control,
      )
      return { items: page.items.map(backupJson), next_cursor: page.nextCursor }
    },
  }),
  defineRoute({
    method: 'post',
    path: BASE,
    summary: 'Take a manual snapshot (admins; not on Pro staging/production): starts an activity',
    tag: 'backups',
    params: EnvParam,
    body: CreateBackup,
    status: 202,
    response: Activity,
    handler: async ({ actor, params, body, control }) =>
      activityJson(
        await requestSnapshot(
          actor,
          params.project,
          params.environment,
          { live: body.live },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}`,
    summary: 'Get a snapshot',
    tag: 'backups',
    params: BackupParam,
    response: Backup,
    handler: async ({ actor, params, control }) =>
      backupJson(await getBackup(actor, params.project, params.environment, params.id, control)),
  }),
  defineRoute({
    method: 'delete',
    path: `${BASE}/{id}`,
    summary: 'Delete a snapshot and prune its data (admins): starts an activity',
    tag: 'backups',
    params: BackupParam,
    status: 202,
    response: Activity,
    handler: async ({ actor, params, control }) =>
      activityJson(
        await requestDeleteSnapshot(actor, params.project, params.environment, params.id, control),
      ),
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/{id}/restore`,
    summary: 'Restore a snapshot into this or another environment (admins): starts an activity',
    tag: 'backups',
    params: BackupParam,
    body: RestoreRequest,
    status: 202,
    response: Activity,
    handler: async ({ actor, params, body, control }) =>
      activityJson(
        await requestRestore(
          actor,
          params.project,
          params.environment,
          params.id,
          {
            ...(body.target ? { target: body.target } : {}),
            ...(body.only ? { only: body.only } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/{id}/restore-preview`,
    summary: 'What a restore would do and how long it would take (admins); changes nothing',
    tag: 'backups',
    params: BackupParam,
    body: RestoreRequest,
    response: RestorePreview,
    handler: async ({ actor, params, body, control, c }) =>
      restorePreviewJson(
        await previewRestore(
          actor,
          params.project,
          params.environment,
          params.id,
          {
            ...(body.target ? { target: body.target } : {}),
            ...(body.only ? { only: body.only } : {}),
          },
          control,
          c.req.raw.signal,
        ),
      ),
  }),
]
