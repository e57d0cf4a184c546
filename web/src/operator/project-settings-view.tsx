import { p } from '../api-client.js'
import {
  ROLES,
  type AuditEntry,
  type Channel,
  type Environment,
  type Grant,
  type Page,
  type Project,
  type Schedule,
} from '../api-types.js'
import { formatTime } from '../format.js'
import { useApi, useLoad, type Loaded } from '../use-load.js'
import { ActionButton, ActionForm, text } from './action-form.js'
import { EnvironmentsSection } from './environments-section.js'

function Status<T>({ value, what }: { value: Loaded<T>; what: string }) {
  if (value.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading {what}…
      </p>
    )
  if (value.state === 'error')
    return (
      <p className="error" role="alert">
        {value.message}
      </p>
    )
  return null
}

/**
 * A project's environments (their databases with their modes, their mounts), access (roles),
 * backup schedules, notification channels and audit log.
 */
export function ProjectSettingsView({
  project,
  environments,
}: {
  project: Project
  environments: readonly Environment[]
}) {
  return (
    <div className="view">
      <div className="view-head">
        <h1>
          Settings <span className="sub">{project.id}</span>
        </h1>
        <p className="lede">
          Repository: <code>{project.repository}</code>
        </p>
      </div>
      <EnvironmentsSection environments={environments} />
      <AccessSection project={project} environments={environments} />
      <SchedulesSection project={project} environments={environments} />
      <NotificationsSection project={project} />
      <AuditSection project={project} />
    </div>
  )
}

function AccessSection({
  project,
  environments,
}: {
  project: Project
  environments: readonly Environment[]
}) {
  const api = useApi()
  const [grants, reload] = useLoad(
    () => api.all<Grant>(p`/api/projects/${project.id}/access`),
    `access:${project.id}`,
  )
  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title">Access</h2>
      <Status value={grants} what="the roles" />
      {grants.state === 'ready' && (
        <ul className="plain">
          {grants.data.map((g) => (
            <li key={`${g.user}/${g.environment ?? ''}`}>
              <strong>{g.user}</strong>: {g.role}
              {g.environment ? ` on ${g.environment}` : ' on the project'}{' '}
              <ActionButton
                label="Remove"
                danger
                action={() =>
                  api.request(
                    'DELETE',
                    p`/api/projects/${project.id}/access/${g.user}` +
                      (g.environment ? `?environment=${encodeURIComponent(g.environment)}` : ''),
                  )
                }
                onDone={reload}
              />
            </li>
          ))}
        </ul>
      )}
      <ActionForm
        label="Give a role"
        submit="Give role"
        onDone={reload}
        action={(d) =>
          api.request('PUT', p`/api/projects/${project.id}/access/${text(d, 'user')}`, {
            role: text(d, 'role'),
            ...(text(d, 'environment') ? { environment: text(d, 'environment') } : {}),
          })
        }
      >
        <label>
          User name
          <input name="user" required />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          On
          <select name="environment" defaultValue="">
            <option value="">the whole project</option>
            {environments.map((e) => (
              <option key={e.name} value={e.name}>
                {e.name} only
              </option>
            ))}
          </select>
        </label>
      </ActionForm>
    </section>
  )
}

function SchedulesSection({
  project,
  environments,
}: {
  project: Project
  environments: readonly Environment[]
}) {
  const api = useApi()
  const [schedules, reload] = useLoad(
    async () =>
      (
        await Promise.all(
          environments.map((e) =>
            api.all<Schedule>(p`/api/projects/${project.id}/environments/${e.name}/schedules`),
          ),
        )
      ).flat(),
    `schedules:${project.id}:${environments.map((e) => e.name).join(',')}`,
  )
  return (
    <section className="card" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedules and retention</h2>
      <Status value={schedules} what="the schedules" />
      {schedules.state === 'ready' &&
        (schedules.data.length === 0 ? (
          <p className="empty">No schedules.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Keeps</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Last success</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {schedules.data.map((s) => (
                  <tr key={s.id}>
                    <td data-label="Environment">{s.environment}</td>
                    <td data-label="When">
                      <code>{s.cron}</code> {s.kind === 'automatic' ? '(automatic)' : ''}
                      {s.live ? ' live' : ''}
                    </td>
                    <td data-label="Keeps">
                      {s.kind === 'automatic'
                        ? 'thinning policy'
                        : [
                            s.keep_count !== null ? `${s.keep_count} snapshots` : null,
                            s.keep_days !== null ? `${s.keep_days} days` : null,
                          ]
                            .filter(Boolean)
                            .join(', ') || '7 days'}
                    </td>
                    <td data-label="Next run">{formatTime(s.next_run_at)}</td>
                    <td data-label="Last success">
                      {s.last_success_at ? formatTime(s.last_success_at) : '—'}
                    </td>
                    <td>
                      {s.kind !== 'automatic' && (
                        <ActionButton
                          label="Remove"
                          danger
                          action={() =>
                            api.request(
                              'DELETE',
                              p`/api/projects/${project.id}/environments/${s.environment}/schedules/${s.id}`,
                            )
                          }
                          onDone={reload}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <ActionForm
        label="New schedule"
        submit="Add schedule"
        onDone={reload}
        action={(d) => {
          const count = text(d, 'keep_count')
          const days = text(d, 'keep_days')
          return api.post(
            p`/api/projects/${project.id}/environments/${text(d, 'environment')}/schedules`,
            {
              cron: text(d, 'cron'),
              live: d.get('live') === 'on',
              ...(count ? { keep_count: Number(count) } : {}),
              ...(days ? { keep_days: Number(days) } : {}),
            },
          )
        }}
      >
        <label>
          Environment
          <select name="environment">
            {environments.map((e) => (
              <option key={e.name}>{e.name}</option>
            ))}
          </select>
        </label>
        <label>
          Cron expression (UTC)
          <input name="cron" required placeholder="0 3 * * *" />
        </label>
        <label>
          Keep at most (snapshots)
          <input name="keep_count" type="number" min={1} />
        </label>
        <label>
          Keep for (days)
          <input name="keep_days" type="number" min={1} />
        </label>
        <label className="inline">
          <input name="live" type="checkbox" /> Live
        </label>
      </ActionForm>
    </section>
  )
}

function NotificationsSection({ project }: { project: Project }) {
  const api = useApi()
  const [channels, reload] = useLoad(
    () => api.all<Channel>(p`/api/projects/${project.id}/notifications`),
    `channels:${project.id}`,
  )
  return (
    <section className="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Notifications</h2>
      <Status value={channels} what="the notification channels" />
      {channels.state === 'ready' &&
        (channels.data.length === 0 ? (
          <p className="empty">Nobody is notified of failed backups yet.</p>
        ) : (
          <ul className="plain">
            {channels.data.map((c) => (
              <li key={c.id}>
                {c.kind} <code>{c.target}</code>:{' '}
                {[c.on_failure ? 'failures' : null, c.on_success ? 'successes' : null]
                  .filter(Boolean)
                  .join(' and ')}{' '}
                <ActionButton
                  label="Remove"
                  danger
                  action={() =>
                    api.request('DELETE', p`/api/projects/${project.id}/notifications/${c.id}`)
                  }
                  onDone={reload}
                />
              </li>
            ))}
          </ul>
        ))}
      <ActionForm
        label="New channel"
        submit="Add channel"
        onDone={reload}
        action={(d) =>
          api.post(p`/api/projects/${project.id}/notifications`, {
            kind: text(d, 'kind'),
            target: text(d, 'target'),
            on_failure: true,
            on_success: d.get('on_success') === 'on',
          })
        }
      >
        <label>
          Kind
          <select name="kind" defaultValue="webhook">
            <option value="webhook">webhook</option>
            <option value="email">email</option>
          </select>
        </label>
        <label>
          URL or e-mail address
          <input name="target" required />
        </label>
        <label className="inline">
          <input name="on_success" type="checkbox" /> Also on success
        </label>
      </ActionForm>
    </section>
  )
}

function AuditSection({ project }: { project: Project }) {
  const api = useApi()
  const [audit] = useLoad(
    async () =>
      (await api.get<Page<AuditEntry>>(p`/api/projects/${project.id}/audit` + '?limit=50')).items,
    `audit:${project.id}`,
  )
  return (
    <section className="card" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <Status value={audit} what="the audit log" />
      {audit.state === 'ready' && (
        <div className="table-wrap">
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.map((a) => (
                <tr key={a.id}>
                  <td data-label="When">{formatTime(a.at)}</td>
                  <td data-label="Who">{a.actor ?? '—'}</td>
                  <td data-label="What">
                    {a.action}
                    {a.environment ? ` ${a.environment}` : ''}
                    {a.target ? ` ${a.target}` : ''}
                  </td>
                  <td data-label="From">{a.address ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
