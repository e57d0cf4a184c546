import { z } from 'zod'
import {
  createChannel,
  createSchedule,
  deleteChannel,
  deleteSchedule,
  getSmtpSettings,
  listAudit,
  listChannels,
  listSchedules,
  setSmtpSettings,
} from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import {
  AuditEntry,
  auditJson,
  Channel,
  channelJson,
  CreateChannel,
  CreateSchedule,
  NewChannel,
  Schedule,
  scheduleJson,
  SetSmtp,
  SmtpSettings,
  smtpJson,
} from '../schemas/admin.js'
import { pageOf } from '../schemas/common.js'
import { EnvParam, ProjectParam } from './project-routes.js'

const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.coerce.number().int().min(1).optional(),
})

export const adminRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/environments/{environment}/schedules',
    summary: 'List an environment’s backup schedules (the automatic one included)',
    tag: 'schedules',
    params: EnvParam,
    response: pageOf(Schedule),
    handler: async ({ actor, params, control }) => ({
      items: (await listSchedules(actor, params.project, params.environment, control)).map(
        scheduleJson,
      ),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/environments/{environment}/schedules',
    summary: 'Schedule snapshots with a cron expression and a retention (admins)',
    tag: 'schedules',
    params: EnvParam,
    body: CreateSchedule,
    status: 201,
    response: Schedule,
    handler: async ({ actor, params, body, control }) =>
      scheduleJson(
        await createSchedule(
          actor,
          params.project,
          params.environment,
          {
            cron: body.cron,
            ...(body.live !== undefined ? { live: body.live } : {}),
            ...(body.keep_count !== undefined ? { keepCount: body.keep_count } : {}),
            ...(body.keep_days !== undefined ? { keepDays: body.keep_days } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/projects/{project}/environments/{environment}/schedules/{id}',
    summary: 'Remove a schedule (admins)',
    tag: 'schedules',
    params: EnvParam.extend({ id: z.string().max(64) }),
    status: 204,
    handler: async ({ actor, params, control }) => {
      await deleteSchedule(actor, params.project, params.environment, params.id, control)
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/notifications',
    summary: 'List the project’s notification channels (admins)',
    tag: 'notifications',
    params: ProjectParam,
    response: pageOf(Channel),
    handler: async ({ actor, params, control }) => ({
      items: (await listChannels(actor, params.project, control)).map(channelJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/notifications',
    summary: 'Add a webhook or e-mail channel (admins); failures are notified by default',
    tag: 'notifications',
    params: ProjectParam,
    body: CreateChannel,
    status: 201,
    response: NewChannel,
    handler: async ({ actor, params, body, control }) => {
      const r = await createChannel(
        actor,
        params.project,
        {
          kind: body.kind,
          target: body.target,
          ...(body.on_failure !== undefined ? { onFailure: body.on_failure } : {}),
          ...(body.on_success !== undefined ? { onSuccess: body.on_success } : {}),
          ...(body.secret ? { secret: body.secret } : {}),
        },
        control,
      )
      return { channel: channelJson(r.channel), secret: r.secret }
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/projects/{project}/notifications/{id}',
    summary: 'Remove a notification channel (admins)',
    tag: 'notifications',
    params: ProjectParam.extend({ id: z.string().max(64) }),
    status: 204,
    handler: async ({ actor, params, control }) => {
      await deleteChannel(actor, params.project, params.id, control)
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/audit',
    summary: 'The audit log, newest first (operators)',
    tag: 'audit',
    query: AuditQuery,
    response: pageOf(AuditEntry),
    handler: async ({ actor, query, control }) => {
      const r = await listAudit(
        actor,
        { limit: query.limit, ...(query.cursor ? { before: query.cursor } : {}) },
        control,
      )
      return { items: r.items.map(auditJson), next_cursor: r.nextCursor }
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/audit',
    summary: 'The audit log of a project, newest first (its admins)',
    tag: 'audit',
    params: ProjectParam,
    query: AuditQuery,
    response: pageOf(AuditEntry),
    handler: async ({ actor, params, query, control }) => {
      const r = await listAudit(
        actor,
        {
          project: params.project,
          limit: query.limit,
          ...(query.cursor ? { before: query.cursor } : {}),
        },
        control,
      )
      return { items: r.items.map(auditJson), next_cursor: r.nextCursor }
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/settings/smtp',
    summary: 'The SMTP server for e-mail notifications (operators)',
    tag: 'settings',
    response: SmtpSettings.nullable(),
    handler: async ({ actor, control }) => {
      const s = await getSmtpSettings(actor, control)
      return s ? smtpJson(s) : null
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/settings/smtp',
    summary: 'Set the SMTP server (operators); its password is stored sealed',
    tag: 'settings',
    body: SetSmtp,
    response: SmtpSettings,
    handler: async ({ actor, body, control }) =>
      smtpJson(
        await setSmtpSettings(
          actor,
          {
            host: body.host,
            port: body.port,
            security: body.security,
            from: body.from,
            ...(body.user ? { user: body.user } : {}),
            ...(body.password ? { password: body.password } : {}),
            ...(body.allow_self_signed ? { allowSelfSigned: true } : {}),
          },
          control,
        ),
      ),
  }),
]
