import { z } from 'zod'
import {
  CHANNEL_KINDS,
  SCHEDULE_KINDS,
  SMTP_SECURITY,
  type AuditView,
  type ChannelView,
  type ScheduleView,
  type SmtpSettingsView,
} from '../../control/index.js'
import { Timestamp } from './common.js'
import { component } from './registry.js'

export const Schedule = component(
  'Schedule',
  z.object({
    id: z.string(),
    project: z.string(),
    environment: z.string(),
    kind: z.enum(SCHEDULE_KINDS),
    cron: z.string(),
    live: z.boolean(),
    keep_count: z.number().int().nullable(),
    keep_days: z.number().int().nullable(),
    next_run_at: Timestamp,
    last_run_at: Timestamp.nullable(),
    last_success_at: Timestamp.nullable(),
    last_skipped_at: Timestamp.nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
  }),
)
export const scheduleJson = (s: ScheduleView): z.infer<typeof Schedule> => ({
  id: s.id,
  project: s.project,
  environment: s.environment,
  kind: s.kind,
  cron: s.cron,
  live: s.live,
  keep_count: s.keepCount,
  keep_days: s.keepDays,
  next_run_at: s.nextRunAt,
  last_run_at: s.lastRunAt,
  last_success_at: s.lastSuccessAt,
  last_skipped_at: s.lastSkippedAt,
  created_by: s.createdBy,
  created_at: s.createdAt,
})
export const CreateSchedule = z.object({
  cron: z.string().min(9).max(100).describe('Five fields, UTC: minute hour day month weekday.'),
  live: z.boolean().optional(),
  keep_count: z.number().int().min(1).max(10_000).optional(),
  keep_days: z.number().int().min(1).max(3650).optional(),
})

export const Channel = component(
  'Channel',
  z.object({
    id: z.string(),
    project: z.string(),
    kind: z.enum(CHANNEL_KINDS),
    target: z.string(),
    on_failure: z.boolean(),
    on_success: z.boolean(),
    created_at: Timestamp,
  }),
)
export const channelJson = (c: ChannelView): z.infer<typeof Channel> => ({
  id: c.id,
  project: c.project,
  kind: c.kind,
  target: c.target,
  on_failure: c.onFailure,
  on_success: c.onSuccess,
  created_at: c.createdAt,
})
export const CreateChannel = z.object({
  kind: z.enum(CHANNEL_KINDS),
  target: z.string().min(3).max(2000),
  on_failure: z.boolean().optional(),
  on_success: z.boolean().optional(),
  secret: z.string().min(16).max(200).optional(),
})
export const NewChannel = component(
  'NewChannel',
  z.object({
    channel: Channel,
    secret: z.string().nullable().describe('The webhook signing secret, shown once.'),
  }),
)

export const AuditEntry = component(
  'AuditEntry',
  z.object({
    id: z.number().int(),
    at: Timestamp,
    actor: z.string().nullable(),
    address: z.string().nullable(),
    action: z.string(),
    project: z.string().nullable(),
    environment: z.string().nullable(),
    target: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  }),
)
export const auditJson = (a: AuditView): z.infer<typeof AuditEntry> => ({
  ...a,
  detail: { ...a.detail },
})

export const SmtpSettings = component(
  'SmtpSettings',
  z.object({
    host: z.string(),
    port: z.number().int(),
    security: z.enum(SMTP_SECURITY),
    user: z.string().nullable(),
    password_set: z.boolean(),
    from: z.string(),
  }),
)
export const smtpJson = (s: SmtpSettingsView): z.infer<typeof SmtpSettings> => ({
  host: s.host,
  port: s.port,
  security: s.security,
  user: s.user,
  password_set: s.passwordSet,
  from: s.from,
})
export const SetSmtp = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  security: z.enum(SMTP_SECURITY).default('starttls'),
  user: z.string().max(255).optional(),
  password: z.string().max(1024).optional(),
  from: z.string().min(3).max(255),
  allow_self_signed: z.boolean().optional(),
})
