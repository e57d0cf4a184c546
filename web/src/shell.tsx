import { useEffect, useState } from 'react'
import { p } from './api-client.js'
import type { Environment, Project, User } from './api-types.js'
import { ActivitiesView } from './activities-view.js'
import { BackupsView } from './backups-view.js'
import { InsightsView } from './insights-view.js'
import { ProjectSettingsView } from './operator/project-settings-view.js'
import { ProjectsAdminView } from './operator/projects-admin-view.js'
import { RepositoryView } from './operator/repository-view.js'
import { UsersView } from './operator/users-view.js'
import { homeRedirect, href, redirect, useRoute, type Route } from './route.js'
import { Switcher } from './switcher.js'
import { useApi, useLoad } from './use-load.js'

function projectOf(r: Route): string | undefined {
  return 'project' in r ? r.project : undefined
}

/** Header, the project and environment switcher with the views' links, and the page. */
export function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const api = useApi()
  const route = useRoute()
  const [menuOpen, setMenuOpen] = useState(false)
  const [projects, reloadProjects] = useLoad(() => api.all<Project>('/api/projects'), 'projects')
  const projectId =
    projectOf(route) ?? (projects.state === 'ready' ? projects.data[0]?.id : undefined)
  const [envs, reloadEnvs] = useLoad(
    (signal) =>
      projectId
        ? api.get<{ items: Environment[] }>(p`/api/projects/${projectId}/environments`, signal)
        : Promise.resolve({ items: [] }),
    `envs:${projectId ?? ''}`,
  )
  const environments = envs.state === 'ready' ? envs.data.items : []
  const project =
    projects.state === 'ready' ? projects.data.find((x) => x.id === projectId) : undefined
  const envName = 'environment' in route ? route.environment : undefined
  const environment = environments.find((e) => e.name === envName)

  // The home page opens the first environment of the first project. The effect may run a
  // moment after the address changed (the hashchange not yet rendered), so it reads the
  // address itself rather than `route`.
  useEffect(() => {
    if (route.page !== 'home' || !projectId || envs.state !== 'ready') return
    const target = homeRedirect(window.location.hash, projectId, envs.data.items)
    if (target) redirect(target)
  }, [route.page, projectId, envs])

  useEffect(() => setMenuOpen(false), [route])

  let page
  if (projects.state === 'error')
    page = (
      <p className="error" role="alert">
        {projects.message}
      </p>
    )
  else if (route.page === 'users') page = <UsersView me={user} />
  else if (route.page === 'projects')
    page = <ProjectsAdminView onChange={() => (reloadProjects(), reloadEnvs())} />
  else if (route.page === 'repository') page = <RepositoryView />
  else if (route.page === 'project-settings')
    page = project ? (
      <ProjectSettingsView project={project} environments={environments} />
    ) : (
      <Pending state={projects.state} what="project" />
    )
  else if (route.page === 'home')
    page =
      projects.state === 'ready' && projects.data.length === 0 ? (
        <section className="empty-state">
          <h1>No projects yet</h1>
          <p>
            {user.operator
              ? 'Create a project and register its environments under Projects.'
              : 'Nobody has given you a role on a project yet. Ask an operator of Coffer.'}
          </p>
          {user.operator && <a href={href({ page: 'projects' })}>Create a project</a>}
        </section>
      ) : project && envs.state === 'ready' && envs.data.items.length === 0 ? (
        <section className="empty-state">
          <h1>{project.title}</h1>
          <p>
            This project has no environments yet.{' '}
            {user.operator
              ? 'Register one under Projects and environments.'
              : 'An operator registers them.'}
          </p>
        </section>
      ) : (
        <Pending state="loading" what="projects" />
      )
  else if (!project || !environment)
    page =
      envs.state === 'error' ? (
        <p className="error" role="alert">
          {envs.message}
        </p>
      ) : projects.state === 'ready' && envs.state === 'ready' ? (
        <p className="error" role="alert">
          There is no environment {envName} in the project {projectId} that you can see.
        </p>
      ) : (
        <Pending state="loading" what="environment" />
      )
  else if (route.page === 'backups')
    page = (
      <BackupsView
        key={`${project.id}/${environment.name}`}
        project={project}
        environment={environment}
        environments={environments}
        onEnvironmentChange={reloadEnvs}
      />
    )
  else if (route.page === 'activities')
    page = (
      <ActivitiesView
        key={`${project.id}/${environment.name}`}
        project={project}
        environment={environment}
        {...(route.activity ? { selected: route.activity } : {})}
        onFinished={reloadEnvs}
      />
    )
  else
    page = (
      <InsightsView
        key={`${project.id}/${environment.name}`}
        project={project}
        environment={environment}
      />
    )

  return (
    <div className="shell">
      <header className="top">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span aria-hidden="true">☰</span>
          <span className="visually-hidden">Menu</span>
        </button>
        <a className="brand" href="#/">
          <span className="brand-mark" aria-hidden="true" />
          Coffer
        </a>
        <span className="who">
          {user.name}
          {user.operator && <span className="badge">operator</span>}
        </span>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <aside id="sidebar" className={menuOpen ? 'sidebar open' : 'sidebar'}>
        <Switcher
          projects={projects.state === 'ready' ? projects.data : []}
          project={project}
          environments={environments}
          environment={environment}
          route={route}
        />
        {user.operator && (
          <nav aria-label="Operator">
            <h2>Platform</h2>
            <ul>
              <NavLink
                route={{ page: 'projects' }}
                current={route}
                label="Projects and environments"
              />
              <NavLink route={{ page: 'users' }} current={route} label="Users" />
              <NavLink route={{ page: 'repository' }} current={route} label="Repositories" />
            </ul>
          </nav>
        )}
      </aside>
      <main id="content" className="content">
        {page}
      </main>
    </div>
  )
}

function Pending({ state, what }: { state: string; what: string }) {
  return state === 'loading' ? (
    <p className="loading" role="status">
      Loading the {what}…
    </p>
  ) : null
}

export function NavLink({
  route,
  current,
  label,
}: {
  route: Route
  current: Route
  label: string
}) {
  const here = href(route) === href(current)
  return (
    <li>
      <a href={href(route)} aria-current={here ? 'page' : undefined}>
        {label}
      </a>
    </li>
  )
}
