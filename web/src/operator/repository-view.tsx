import { p } from '../api-client.js'
import type { Backup, Environment, Page, Project } from '../api-types.js'
import { BarChart } from '../bar-chart.js'
import { formatBytes, formatTime } from '../format.js'
import { useApi, useLoad } from '../use-load.js'
import { RepositoryHealthFacts } from './repository-health.js'

/**
 * Operators: each project's repository — where it is, what it stores and how well it
 * deduplicates, its last check, how many snapshots it holds, their sizes, and the newest
 * snapshot of each environment.
 */
export function RepositoryView() {
  const api = useApi()
  const [data] = useLoad(async () => {
    const projects = await api.all<Project>('/api/projects')
    return Promise.all(
      projects.map(async (project) => {
        const envs = (
          await api.get<Page<Environment>>(
            p`/api/projects/${project.id}/environments` + '?limit=200',
          )
        ).items
        const backups = await Promise.all(
          envs.map(async (e) => ({
            environment: e,
            backups: (
              await api.get<Page<Backup>>(
                p`/api/projects/${project.id}/environments/${e.name}/backups` + '?limit=100',
              )
            ).items,
          })),
        )
        return { project, backups }
      }),
    )
  }, 'repositories')
  if (data.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading the repositories…
      </p>
    )
  if (data.state === 'error')
    return (
      <p className="error" role="alert">
        {data.message}
      </p>
    )
  return (
    <div className="view">
      <div className="view-head">
        <h1>Repositories</h1>
        <p className="lede">One encrypted, deduplicated repository per project (restic format).</p>
      </div>
      {data.data.map(({ project, backups }) => {
        const all = backups.flatMap((b) => b.backups)
        const total = all.reduce((n, b) => n + b.size, 0)
        const byDay = new Map<string, number>()
        for (const b of [...all].sort((x, y) => x.created_at.localeCompare(y.created_at)))
          byDay.set(b.created_at.slice(0, 10), (byDay.get(b.created_at.slice(0, 10)) ?? 0) + b.size)
        return (
          <section key={project.id} className="card" aria-labelledby={`repo-${project.id}`}>
            <h2 id={`repo-${project.id}`}>
              {project.title} <code className="sub">{project.id}</code>
            </h2>
            <RepositoryHealthFacts project={project.id} />
            <dl className="facts">
              <dt>Location</dt>
              <dd>
                <code>{project.repository}</code>
              </dd>
              <dt>Snapshots</dt>
              <dd>{all.length}</dd>
              <dt>Data they hold (before deduplication)</dt>
              <dd>{formatBytes(total)}</dd>
              {backups.map(({ environment, backups: list }) => (
                <div key={environment.name} className="fact-row">
                  <dt>Newest of {environment.name}</dt>
                  <dd>
                    {list[0] ? `${formatTime(list[0].created_at)} (${list[0].id})` : 'none yet'}
                  </dd>
                </div>
              ))}
            </dl>
            <BarChart
              title={`Data captured per day, ${project.id}`}
              bars={[...byDay].map(([label, value]) => ({ label, value }))}
              format={formatBytes}
            />
          </section>
        )
      })}
    </div>
  )
}
