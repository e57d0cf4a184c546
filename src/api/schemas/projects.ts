import { z } from 'zod'
import {
  ENVIRONMENT_NAME,
  ENVIRONMENT_STATUSES,
  ENVIRONMENT_TYPES,
  LABEL,
  PLANS,
  PROJECT_ID,
  ROLES,
  S3_BUCKET_LOOKUPS,
  USER_NAME,
  type EnvironmentView,
  type GrantView,
  type ProjectView,
  type RepositoryInput as RepositoryInputOf,
} from '../../control/index.js'
import { Timestamp } from './common.js'
import { component } from './registry.js'

const Access = z.enum([...ROLES, 'none'])

export const Project = component(
  'Project',
  z.object({
    id: z.string(),
    title: z.string(),
    plan: z.enum(PLANS),
    repository: z.string().describe('Where the repository lives (never its password).'),
    created_at: Timestamp,
    role: Access.describe('Your role on the project.'),
  }),
)
export const projectJson = (p: ProjectView): z.infer<typeof Project> => ({
  id: p.id,
  title: p.title,
  plan: p.plan,
  repository: p.repository,
  created_at: p.createdAt,
  role: p.role,
})
const RepositoryS3 = z
  .object({
    access_key_id: z.string().min(1).max(256).optional(),
    secret_access_key: z.string().min(1).max(1024).optional(),
    session_token: z.string().min(1).max(4096).optional(),
    region: z.string().min(1).max(64).optional(),
    bucket_lookup: z.enum(S3_BUCKET_LOOKUPS).optional(),
    ca: z.string().min(1).max(65536).optional().describe('PEM certificates to trust.'),
    storage_class: z.string().min(1).max(64).optional().describe('Storage class of data packs.'),
  })
  .strict()
  .describe(
    "The project's own S3 settings, over the server's (its AWS_* environment). Secrets: stored sealed, never returned.",
  )
const RepositoryInput = z
  .object({
    location: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "An absolute directory or s3:https://host[:port]/bucket[/prefix]. Default: the server's base (`--repos`) + /<id>.",
      ),
    s3: RepositoryS3.optional(),
  })
  .strict()
export const CreateProject = z.object({
  id: PROJECT_ID,
  title: z.string().min(1).max(200).optional(),
  plan: z.enum(PLANS),
  repository: RepositoryInput.optional(),
})

/** The API's repository input in the control plane's terms. */
export function repositoryInput(
  r: z.infer<typeof RepositoryInput> | undefined,
): RepositoryInputOf | undefined {
  if (!r) return undefined
  const s = r.s3
  return {
    ...(r.location ? { location: r.location } : {}),
    ...(s
      ? {
          s3: {
            ...(s.access_key_id ? { accessKeyId: s.access_key_id } : {}),
            ...(s.secret_access_key ? { secretAccessKey: s.secret_access_key } : {}),
            ...(s.session_token ? { sessionToken: s.session_token } : {}),
            ...(s.region ? { region: s.region } : {}),
            ...(s.bucket_lookup ? { bucketLookup: s.bucket_lookup } : {}),
            ...(s.ca ? { ca: s.ca } : {}),
            ...(s.storage_class ? { storageClass: s.storage_class } : {}),
          },
        }
      : {}),
  }
}
export const UpdateProject = z.object({
  title: z.string().min(1).max(200).optional(),
  plan: z.enum(PLANS).optional(),
})

const Service = z.object({
  name: z.string(),
  kind: z.literal('mysql'),
  url: z
    .string()
    .describe(
      'mysql://user:password@host:port/database — a secret: stored sealed, shown without the password.',
    ),
  mode: z.enum(['logical', 'physical', 'auto']).optional(),
})
const Mount = z.object({
  name: z.string().describe('The mount in the application, e.g. pub/media.'),
  path: z
    .string()
    .describe('Absolute directory on the host that runs the environment’s activities.'),
})
const Hooks = z.object({
  hold: z
    .string()
    .max(4096)
    .optional()
    .describe('Shell command that holds writes (maintenance on).'),
  release: z.string().max(4096).optional(),
})
const Capability = z.object({ allowed: z.boolean(), reason: z.string().optional() })

export const Environment = component(
  'Environment',
  z.object({
    project: z.string(),
    name: z.string(),
    type: z.enum(ENVIRONMENT_TYPES),
    status: z.enum(ENVIRONMENT_STATUSES),
    services: z.array(
      z.object({
        name: z.string(),
        kind: z.literal('mysql'),
        url: z.string(),
        mode: z.enum(['logical', 'physical', 'auto']),
      }),
    ),
    mounts: z.array(Mount),
    git_dir: z.string().nullable(),
    hooks: z.object({ hold: z.boolean(), release: z.boolean() }),
    label: z.string().nullable(),
    created_at: Timestamp,
    role: Access.describe('Your role on the environment.'),
    active_activity: z.string().nullable(),
    automatic_backups: z.boolean(),
    can_create_snapshot: Capability.describe(
      'Whether you may take a manual snapshot now, and why not.',
    ),
  }),
)
export const environmentJson = (e: EnvironmentView): z.infer<typeof Environment> => ({
  project: e.project,
  name: e.name,
  type: e.type,
  status: e.status,
  services: e.services.map((s) => ({ ...s })),
  mounts: e.mounts.map((m) => ({ ...m })),
  git_dir: e.gitDir,
  hooks: { ...e.hooks },
  label: e.label,
  created_at: e.createdAt,
  role: e.role,
  active_activity: e.activeActivity,
  automatic_backups: e.automaticBackups,
  can_create_snapshot: { ...e.canCreateSnapshot },
})
export const CreateEnvironment = z.object({
  name: ENVIRONMENT_NAME,
  type: z.enum(ENVIRONMENT_TYPES),
  status: z.enum(ENVIRONMENT_STATUSES).optional(),
  services: z.array(Service).max(20).optional(),
  mounts: z.array(Mount).max(100).optional(),
  git_dir: z.string().nullable().optional(),
  hooks: Hooks.nullable().optional(),
  label: LABEL.nullable().optional(),
})
export const UpdateEnvironment = CreateEnvironment.omit({ name: true }).partial()

export const Grant = component(
  'Grant',
  z.object({
    user: z.string(),
    environment: z.string().nullable().describe('null: the whole project; else an override.'),
    role: z.enum(ROLES),
    created_at: Timestamp,
  }),
)
export const grantJson = (g: GrantView): z.infer<typeof Grant> => ({
  user: g.user,
  environment: g.environment,
  role: g.role,
  created_at: g.createdAt,
})
export const SetGrant = z.object({
  role: z.enum(ROLES),
  environment: ENVIRONMENT_NAME.optional(),
})
export const GrantUserParam = z.object({ project: z.string(), user: USER_NAME })
