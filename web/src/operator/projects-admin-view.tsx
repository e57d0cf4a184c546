import { p } from '../api-client.js'
import {
  ENVIRONMENT_TYPES,
  PLANS,
  type Environment,
  type Page,
  type Project,
} from '../api-types.js'
import { useApi, useLoad } from '../use-load.js'
import { ActionButton, ActionForm, text } from './action-form.js'

/** `pub/media=/srv/shop/pub/media`, one a line: the mounts of a new environment. */
function parseMounts(lines: string): { name: string; path: string }[] {
  return lines
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf('=')
      return i < 0
        ? { name: l.replace(/^\/+/, ''), path: l }
        : { name: l.slice(0, i).trim(), path: l.slice(i + 1).trim() }
    })
}

/** Operators: projects and their environments — create, activate, deactivate. */
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
            <p className="sub">Repository: {project.repository}</p>
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
                        {e.services.map((s) => s.url).join(', ') || '—'}
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
            <ActionForm
              label={`New environment of ${project.id}`}
              submit="Add environment"
              onDone={done}
              action={(d) => {
                const mysql = text(d, 'mysql')
                return api.post(p`/api/projects/${project.id}/environments`, {
                  name: text(d, 'name'),
                  type: text(d, 'type'),
                  mounts: parseMounts(text(d, 'mounts')),
                  ...(mysql ? { services: [{ name: 'mysql', kind: 'mysql', url: mysql }] } : {}),
                })
              }}
            >
              <label>
                Name (the git branch)
                <input name="name" required />
              </label>
              <label>
                Type
                <select name="type" defaultValue="integration">
                  {ENVIRONMENT_TYPES.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </label>
              <label>
                Mounts, one a line: name=directory
                <textarea name="mounts" rows={2} placeholder="pub/media=/srv/shop/pub/media" />
              </label>
              <label>
                Database (optional)
                <input
                  name="mysql"
                  placeholder="mysql://user:password@127.0.0.1:3306/shop"
                  autoComplete="off"
                />
              </label>
            </ActionForm>
          </section>
        ))}
      <ActionForm
        label="New project"
        submit="Create project"
        onDone={done}
        action={(d) =>
          api.post('/api/projects', {
            id: text(d, 'id'),
            plan: text(d, 'plan'),
            ...(text(d, 'title') ? { title: text(d, 'title') } : {}),
          })
        }
      >
        <label>
          Project ID
          <input name="id" required />
        </label>
        <label>
          Title
          <input name="title" />
        </label>
        <label>
          Plan
          <select name="plan" defaultValue="starter">
            {PLANS.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </label>
      </ActionForm>
    </div>
  )
}
