import { checkProjectRepository, repositoryHealth } from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import {
  CheckRepositoryBody,
  RepositoryCheck,
  RepositoryHealth,
  repositoryCheckJson,
  repositoryHealthJson,
} from '../schemas/repository.js'
import { ProjectParam } from './project-routes.js'

/** A project's repository: its health (sizes, deduplication, last check) and checks. */
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
]
