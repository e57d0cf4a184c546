import { useId } from 'react'
import type { Environment, Project } from './api-types.js'
import { navigate, type Route } from './route.js'
import { NavLink } from './shell.js'

const TYPE_WORDS = { production: 'production', staging: 'staging', integration: 'integration' }

/** Picks the project and the environment; shows plan, type and status; links the views. */
export function Switcher({
  projects,
  project,
  environments,
  environment,
  route,
}: {
  projects: readonly Project[]
  project: Project | undefined
  environments: readonly Environment[]
  environment: Environment | undefined
  route: Route
}) {
  const projectId = useId()
  const envId = useId()
  const view = route.page === 'activities' || route.page === 'insights' ? route.page : 'backups'
  return (
    <nav aria-label="Project and environment" className="switcher">
      <div className="field">
        <label htmlFor={projectId}>Project</label>
        <select
          id={projectId}
          value={project?.id ?? ''}
          onChange={(e) => navigate({ page: 'home', project: e.target.value })}
        >
          {!project && <option value="">Choose a project</option>}
          {projects.map((x) => (
            <option key={x.id} value={x.id}>
              {x.title && x.title !== x.id ? `${x.title} (${x.id})` : x.id}
            </option>
          ))}
        </select>
      </div>
      {project && (
        <p className="badges" aria-label="Project details">
          <span className={`badge plan-${project.plan}`}>
            {project.plan === 'pro' ? 'Pro' : 'Starter'}
          </span>
          <span className="badge">role: {project.role}</span>
        </p>
      )}
      {project && (
        <div className="field">
          <label htmlFor={envId}>Environment</label>
          <select
            id={envId}
            value={environment?.name ?? ''}
            onChange={(e) =>
              navigate({ page: view, project: project.id, environment: e.target.value })
            }
          >
            {!environment && <option value="">Choose an environment</option>}
            {environments.map((x) => (
              <option key={x.name} value={x.name}>
                {x.name} — {TYPE_WORDS[x.type]}
                {x.status === 'inactive' ? ', inactive' : ''}
              </option>
            ))}
          </select>
        </div>
      )}
      {environment && (
        <p className="badges" aria-label="Environment details">
          <span className={`badge type-${environment.type}`}>{environment.type}</span>
          <span className={`badge status-${environment.status}`}>{environment.status}</span>
        </p>
      )}
      {project && environment && (
        <ul>
          <NavLink
            route={{ page: 'backups', project: project.id, environment: environment.name }}
            current={route}
            label="Backups"
          />
          <NavLink
            route={{ page: 'activities', project: project.id, environment: environment.name }}
            current={route}
            label="Activities"
          />
          <NavLink
            route={{ page: 'insights', project: project.id, environment: environment.name }}
            current={route}
            label="Charts"
          />
        </ul>
      )}
      {project && (
        <ul>
          <NavLink
            route={{ page: 'project-settings', project: project.id }}
            current={route}
            label="Project settings"
          />
        </ul>
      )}
    </nav>
  )
}
