import { p } from '../api-client.js'
import { ENVIRONMENT_TYPES } from '../api-types.js'
import { useApi } from '../use-load.js'
import { ActionForm, text } from './action-form.js'
import { ModeSelect, modeOf } from './mode-select.js'

/** `pub/media=/srv/shop/pub/media`, one a line: the mounts of a new environment. */
export function parseMounts(lines: string): { name: string; path: string }[] {
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

/** The body of `POST /api/projects/{p}/environments` from the form below. */
export function environmentBody(d: FormData): Record<string, unknown> {
  const mysql = text(d, 'mysql')
  return {
    name: text(d, 'name'),
    type: text(d, 'type'),
    mounts: parseMounts(text(d, 'mounts')),
    ...(mysql
      ? { services: [{ name: 'mysql', kind: 'mysql', url: mysql, mode: modeOf(text(d, 'mode')) }] }
      : {}),
  }
}

/** Operators: registers an environment of a project — type, mounts, a database and its mode. */
export function NewEnvironmentForm({ project, onDone }: { project: string; onDone: () => void }) {
  const api = useApi()
  return (
    <ActionForm
      label={`New environment of ${project}`}
      submit="Add environment"
      onDone={onDone}
      action={(d) => api.post(p`/api/projects/${project}/environments`, environmentBody(d))}
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
      <ModeSelect name="mode" label="Database mode" />
    </ActionForm>
  )
}
