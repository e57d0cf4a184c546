import { z } from 'zod'
import {
  createEnvironment,
  createProject,
  deleteEnvironment,
  deleteProject,
  getEnvironment,
  getProject,
  listEnvironments,
  listGrants,
  listProjects,
  removeGrant,
  setGrant,
  updateEnvironment,
  updateProject,
  type EnvironmentInput,
  type EnvironmentPatch,
} from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import { pageOf } from '../schemas/common.js'
import {
  CreateEnvironment,
  CreateProject,
  Environment,
  environmentJson,
  Grant,
  grantJson,
  GrantUserParam,
  Project,
  projectJson,
  SetGrant,
  UpdateEnvironment,
  UpdateProject,
  repositoryInput,
} from '../schemas/projects.js'

export const ProjectParam = z.object({ project: z.string().max(64) })
export const EnvParam = z.object({ project: z.string().max(64), environment: z.string().max(128) })

type EnvBody = z.infer<typeof UpdateEnvironment>

function environmentPatch(b: EnvBody): EnvironmentPatch {
  return {
    ...(b.type ? { type: b.type } : {}),
    ...(b.status ? { status: b.status } : {}),
    ...(b.services ? { services: b.services } : {}),
    ...(b.mounts ? { mounts: b.mounts } : {}),
    ...(b.git_dir !== undefined ? { gitDir: b.git_dir } : {}),
    ...(b.hooks !== undefined ? { hooks: b.hooks } : {}),
    ...(b.label !== undefined ? { label: b.label } : {}),
  }
}

export const projectRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/api/projects',
    summary: 'List the projects you have a role on (operators: all)',
    tag: 'projects',
    response: pageOf(Project),
    handler: async ({ actor, control }) => ({
      items: (await listProjects(actor, control)).map(projectJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects',
    summary: 'Create a project and its repository (operators)',
    tag: 'projects',
    body: CreateProject,
    status: 201,
    response: Project,
    handler: async ({ actor, body, control }) =>
      projectJson(
        await createProject(
          actor,
          {
            id: body.id,
            plan: body.plan,
            ...(body.title ? { title: body.title } : {}),
            ...(body.repository ? { repository: repositoryInput(body.repository)! } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}',
    summary: 'Get a project',
    tag: 'projects',
    params: ProjectParam,
    response: Project,
    handler: async ({ actor, params, control }) =>
      projectJson(await getProject(actor, params.project, control)),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/projects/{project}',
    summary: 'Change a project’s title (admins) or plan (operators)',
    tag: 'projects',
    params: ProjectParam,
    body: UpdateProject,
    response: Project,
    handler: async ({ actor, params, body, control }) =>
      projectJson(
        await updateProject(
          actor,
          params.project,
          {
            ...(body.title ? { title: body.title } : {}),
            ...(body.plan ? { plan: body.plan } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/projects/{project}',
    summary: 'Delete a project’s records (operators); its repository stays',
    tag: 'projects',
    params: ProjectParam,
    status: 204,
    handler: async ({ actor, params, control }) => {
      await deleteProject(actor, params.project, control)
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/access',
    summary: 'Who has which role on the project',
    tag: 'access',
    params: ProjectParam,
    response: pageOf(Grant),
    handler: async ({ actor, params, control }) => ({
      items: (await listGrants(actor, params.project, control)).map(grantJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'put',
    path: '/api/projects/{project}/access/{user}',
    summary: 'Give a user a role on the project, or on one environment (admins)',
    tag: 'access',
    params: GrantUserParam,
    body: SetGrant,
    response: Grant,
    handler: async ({ actor, params, body, control }) =>
      grantJson(
        await setGrant(
          actor,
          params.project,
          {
            user: params.user,
            role: body.role,
            ...(body.environment ? { environment: body.environment } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/projects/{project}/access/{user}',
    summary: 'Remove a user’s role (the project’s, or one environment’s with ?environment=)',
    tag: 'access',
    params: GrantUserParam,
    query: z.object({ environment: z.string().max(128).optional() }),
    status: 204,
    handler: async ({ actor, params, query, control }) => {
      await removeGrant(
        actor,
        params.project,
        { user: params.user, ...(query.environment ? { environment: query.environment } : {}) },
        control,
      )
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/environments',
    summary: 'List the environments of a project',
    tag: 'environments',
    params: ProjectParam,
    response: pageOf(Environment),
    handler: async ({ actor, params, control }) => ({
      items: (await listEnvironments(actor, params.project, control)).map(environmentJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/environments',
    summary: 'Register an environment (operators: it names host paths, credentials and hooks)',
    tag: 'environments',
    params: ProjectParam,
    body: CreateEnvironment,
    status: 201,
    response: Environment,
    handler: async ({ actor, params, body, control }) => {
      const input: EnvironmentInput = {
        name: body.name,
        type: body.type,
        ...environmentPatch(body),
      }
      return environmentJson(await createEnvironment(actor, params.project, input, control))
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/projects/{project}/environments/{environment}',
    summary: 'Get an environment (with whether you may take a snapshot now)',
    tag: 'environments',
    params: EnvParam,
    response: Environment,
    handler: async ({ actor, params, control }) =>
      environmentJson(await getEnvironment(actor, params.project, params.environment, control)),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/projects/{project}/environments/{environment}',
    summary: 'Change an environment: its status (admins), anything else (operators)',
    tag: 'environments',
    params: EnvParam,
    body: UpdateEnvironment,
    response: Environment,
    handler: async ({ actor, params, body, control }) =>
      environmentJson(
        await updateEnvironment(
          actor,
          params.project,
          params.environment,
          environmentPatch(body),
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/environments/{environment}/activate',
    summary: 'Activate an environment (admins)',
    tag: 'environments',
    params: EnvParam,
    response: Environment,
    handler: async ({ actor, params, control }) =>
      environmentJson(
        await updateEnvironment(
          actor,
          params.project,
          params.environment,
          { status: 'active' },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'post',
    path: '/api/projects/{project}/environments/{environment}/deactivate',
    summary: 'Deactivate an environment (admins)',
    tag: 'environments',
    params: EnvParam,
    response: Environment,
    handler: async ({ actor, params, control }) =>
      environmentJson(
        await updateEnvironment(
          actor,
          params.project,
          params.environment,
          { status: 'inactive' },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/projects/{project}/environments/{environment}',
    summary: 'Forget an environment (admins); its snapshots stay in the repository',
    tag: 'environments',
    params: EnvParam,
    status: 204,
    handler: async ({ actor, params, control }) => {
      await deleteEnvironment(actor, params.project, params.environment, control)
      return undefined
    },
  }),
]
