import { p } from '../api-client.js'
import type { Environment, Page, Project } from '../api-types.js'
import { useApi, useLoad } from '../use-load.js'
import { ActionButton } from './action-form.js'
import { EnvironmentDatabasesForm } from './environment-databases-form.js'
import { NewEnvironmentForm } from './new-environment-form.js'
import { NewProjectForm } from './new-project-form.js'
import { ServiceList } from './service-list.js'

/**
 * Operators: projects and their environments — create (a project in its own repository
 * location too), activate, deactivate, change an environment's databases and their modes.
 */
export function ProjectsAdminView({ onChange }: { onChange: () => void }) {
  const api = useApi()
  const [data, reload] = useLoad(async () => {
    const projects = await api.all<Project>('/api/projects')
    const envs = await Promise.all(
      projects.map((x) =>
        api.get<Page<Environment>>(p`/api/projects/${x.id}/environments` + '?limit=200'),
      ),
    )
    return projects.map((x, i) => ({ project: x, environments: envs[i]!.items }))
  }, 'admin-projects')
  const done = (): void => {
    reload()
    onChange()
  }
  return (
    <div className="view">
      <div className="view-head">
        <h1>Projects and environments</h1>
      </div>
      {data.state === 'loading' && (
        <p className="loading" role="status">
          Loading the projects…
        </p>
      )}
      {data.state === 'error' && (
        <p className="error" role="alert">
          {data.message}
        </p>
      )}
      {data.state === 'ready' &&
        data.data.map(({ project, environments }) => (
          <section key={project.id} className="card" aria-labelledby={`proj-${project.id}`}>
            <h2 id={`proj-${project.id}`}>
              {project.title} <code className="sub">{project.id}</code>{' '}
              <span className={`badge plan-${project.plan}`}>{project.plan}</span>
            </h2>
            <p className="sub">
              Repository: <code>{project.repository}</code>
            </p>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Environment</th>
                    <th scope="col">Type</th>
                    <th scope="col">Status</th>
                    <th scope="col">Services</th>
                    <th scope="col">Mounts</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {environments.map((e) => (
                    <tr key={e.name}>
                      <td data-label="Environment">{e.name}</td>
                      <td data-label="Type">{e.type}</td>
                      <td data-label="Status">{e.status}</td>
                      <td data-label="Services">
                        <ServiceList services={e.services} />
                      </td>
                      <td data-label="Mounts">{e.mounts.map((m) => m.name).join(', ') || '—'}</td>
                      <td>
                        <ActionButton
                          label={e.status === 'active' ? 'Deactivate' : 'Activate'}
                          action={() =>
                            api.post(
                              p`/api/projects/${project.id}/environments/${e.name}/` +
                                (e.status === 'active' ? 'deactivate' : 'activate'),
                            )
                          }
                          onDone={done}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {environments
              .filter((e) => e.services.length > 0)
              .map((e) => (
                <EnvironmentDatabasesForm
                  // Remounted when a mode changes, so that the form's defaults are the saved modes.
                  key={`${e.name}:${e.services.map((x) => x.mode).join(',')}`}
                  project={project.id}
                  environment={e}
                  onDone={done}
                />
              ))}
            <NewEnvironmentForm project={project.id} onDone={done} />
          </section>
        ))}
      <NewProjectForm onDone={done} />
    </div>
  )
}
