import { BUCKET_LOOKUPS, PLANS } from '../api-types.js'
import { useApi } from '../use-load.js'
import { ActionForm, text } from './action-form.js'

/** The S3 fields of the form: form name → the API's name in `repository.s3`. */
const S3_FIELDS = [
  ['s3_access_key_id', 'access_key_id'],
  ['s3_secret_access_key', 'secret_access_key'],
  ['s3_session_token', 'session_token'],
  ['s3_region', 'region'],
  ['s3_bucket_lookup', 'bucket_lookup'],
  ['s3_ca', 'ca'],
  ['s3_storage_class', 'storage_class'],
] as const

/**
 * The body of `POST /api/projects` from the form below. Empty fields are left out, so the
 * server's defaults apply (its `--repos` base, its AWS_* settings); S3 settings given with a
 * directory are sent anyway, for the API to refuse with its message.
 */
export function projectBody(d: FormData): Record<string, unknown> {
  const location = text(d, 'location')
  const s3: Record<string, string> = {}
  for (const [field, key] of S3_FIELDS) {
    // PEM text keeps its line breaks; `text` only trims the ends.
    const v = text(d, field)
    if (v) s3[key] = v
  }
  const repository = {
    ...(location ? { location } : {}),
    ...(Object.keys(s3).length > 0 ? { s3 } : {}),
  }
  return {
    id: text(d, 'id'),
    plan: text(d, 'plan'),
    ...(text(d, 'title') ? { title: text(d, 'title') } : {}),
    ...(Object.keys(repository).length > 0 ? { repository } : {}),
  }
}

/**
 * Operators: creates a project, in the server's default repository location or in its own —
 * a directory, or S3-compatible storage with its credentials. The secrets go to the API once
 * (it keeps them sealed and never returns them) and the form is cleared when it succeeds.
 */
export function NewProjectForm({ onDone }: { onDone: () => void }) {
  const api = useApi()
  return (
    <ActionForm
      label="New project"
      submit="Create project"
      onDone={onDone}
      action={(d) => api.post('/api/projects', projectBody(d))}
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
      <details className="edit">
        <summary>Own repository location (optional)</summary>
        <label>
          Repository location
          <input
            name="location"
            autoComplete="off"
            spellCheck={false}
            placeholder="s3:https://host[:port]/bucket/prefix or /srv/backups/shop"
          />
        </label>
        <fieldset>
          <legend>S3 settings (for an s3: location; empty: the server’s)</legend>
          <label>
            Access key ID
            <input name="s3_access_key_id" autoComplete="off" spellCheck={false} />
          </label>
          <label>
            Secret access key
            <input name="s3_secret_access_key" type="password" autoComplete="new-password" />
          </label>
          <label>
            Session token (optional)
            <input name="s3_session_token" type="password" autoComplete="new-password" />
          </label>
          <label>
            Region (optional)
            <input name="s3_region" placeholder="us-east-1" autoComplete="off" />
          </label>
          <label>
            Bucket lookup
            <select name="s3_bucket_lookup" defaultValue="">
              <option value="">the server’s default</option>
              {BUCKET_LOOKUPS.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
          <label>
            CA certificate (PEM, optional)
            <textarea
              name="s3_ca"
              rows={3}
              spellCheck={false}
              placeholder="-----BEGIN CERTIFICATE-----"
            />
          </label>
          <label>
            Storage class of data packs (optional)
            <input name="s3_storage_class" placeholder="STANDARD_IA" autoComplete="off" />
          </label>
        </fieldset>
      </details>
    </ActionForm>
  )
}
