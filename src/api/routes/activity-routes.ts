import { z } from 'zod'
import { activityLog, cancelActivity, getActivity, listActivities } from '../../control/index.js'
import { activityStream } from '../activity-stream.js'
import { defineRoute, type Route } from '../api-route.js'
import { Activity, activityJson, ActivityQuery, LogLine } from '../schemas/activities.js'
import { PageQuery, pageOf } from '../schemas/common.js'
import { EnvParam, ProjectParam } from './project-routes.js'

const ActivityParam = ProjectParam.extend({ id: z.string().max(64) })
const BASE = '/api/projects/{project}/activities'

export const activityRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: BASE,
    summary: 'List the activities of a project, newest first',
    tag: 'activities',
    params: ProjectParam,
    query: PageQuery.extend(ActivityQuery.shape),
    response: pageOf(Activity),
    handler: async ({ actor, params, query, control }) => {
      const page = await listActivities(
        actor,
        params.project,
        {
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.type ? { type: query.type } : {}),
          ...(query.state ? { state: query.state } : {}),
          ...(query.environment ? { environment: query.environment } : {}),
        },
        control,
      )
      return { items: page.items.map(activityJson), next_cursor: page.nextCursor }
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/environments/{environment}/activities',
    summary: 'List the activities of an environment, newest first',
    tag: 'activities',
    params: EnvParam,
    query: PageQuery.extend(ActivityQuery.omit({ environment: true }).shape),
    response: pageOf(Activity),
    handler: async ({ actor, params, query, control }) => {
      const page = await listActivities(
        actor,
        params.project,
        {
          limit: query.limit,
          environment: params.environment,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.type ? { type: query.type } : {}),
          ...(query.state ? { state: query.state } : {}),
        },
        control,
      )
      return { items: page.items.map(activityJson), next_cursor: page.nextCursor }
    },
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}`,
    summary: 'Get an activity: state, result, progress',
    tag: 'activities',
    params: ActivityParam,
    response: Activity,
    handler: async ({ actor, params, control }) =>
      activityJson(await getActivity(actor, params.project, params.id, control)),
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}/log`,
    summary: 'The log lines of an activity after a sequence number',
    tag: 'activities',
    params: ActivityParam,
    query: z.object({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    }),
    response: pageOf(LogLine),
    handler: async ({ actor, params, query, control }) => {
      const items = await activityLog(
        actor,
        params.project,
        params.id,
        { after: query.after, limit: query.limit },
        control,
      )
      const last = items.at(-1)
      return { items, next_cursor: items.length === query.limit && last ? String(last.seq) : null }
    },
  }),
  defineRoute({
    method: 'get',
    path: `${BASE}/{id}/stream`,
    summary: 'Server-Sent Events: log lines (`log`), state and progress (`activity`), then `end`',
    tag: 'activities',
    params: ActivityParam,
    produces: 'text/event-stream',
    handler: async ({ actor, params, control, deps, c }) => {
      const a = await getActivity(actor, params.project, params.id, control)
      return activityStream(c, a.id, deps)
    },
  }),
  defineRoute({
    method: 'post',
    path: `${BASE}/{id}/cancel`,
    summary: 'Cancel an activity (a restore only before its switch)',
    tag: 'activities',
    params: ActivityParam,
    status: 202,
    response: Activity,
    handler: async ({ actor, params, control }) =>
      activityJson(await cancelActivity(actor, params.project, params.id, control)),
  }),
]
