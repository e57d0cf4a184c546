import { p } from '../api-client.js'
import type { Environment } from '../api-types.js'
import { useApi } from '../use-load.js'
import { ActionForm, text } from './action-form.js'
import { ModeSelect, modeOf } from './mode-select.js'

/**
 * The body of `PATCH …/environments/{e}` that replaces the environment's services: the API
 * takes the services as a whole, each with its full URL.
 */
export function servicesPatch(environment: Environment, d: FormData): Record<string, unknown> {
  return {
    services: environment.services.map((s) => ({
      name: s.name,
      kind: s.kind,
      url: text(d, `url:${s.name}`),
      mode: modeOf(text(d, `mode:${s.name}`)),
    })),
  }
}

/**
 * Operators: changes the mode (and the URL) of an environment's database services. The API
 * replaces the services as a whole and never returns a URL's password, so each URL is typed
 * again in full: sending the shown URL back would drop its password.
 */
export function EnvironmentDatabasesForm({
  project,
  environment,
  onDone,
}: {
  project: string
  environment: Environment
  onDone: () => void
}) {
  const api = useApi()
  const hint = `databases-hint-${project}-${environment.name}`
  return (
    <details className="edit">
      <summary>Change the databases of {environment.name}</summary>
      <ActionForm
        label={`Databases of ${environment.name}`}
        submit="Save databases"
        onDone={onDone}
        action={(d) =>
          api.request(
            'PATCH',
            p`/api/projects/${project}/environments/${environment.name}`,
            servicesPatch(environment, d),
          )
        }
      >
        <p id={hint} className="sub">
          A database URL’s password is never shown: type each URL again in full.
        </p>
        {environment.services.map((s) => (
          <fieldset key={s.name}>
            <legend>Service {s.name}</legend>
            <label>
              URL of {s.name}
              <input
                name={`url:${s.name}`}
                required
                placeholder={s.url}
                autoComplete="off"
                aria-describedby={hint}
              />
            </label>
            <ModeSelect name={`mode:${s.name}`} label={`Mode of ${s.name}`} defaultValue={s.mode} />
          </fieldset>
        ))}
      </ActionForm>
    </details>
  )
}
