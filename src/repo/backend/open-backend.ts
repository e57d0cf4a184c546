import { InvalidInputError } from '../../errors.js'
import type { Logger } from '../../lib/index.js'
import type { Backend } from './backend.js'
import { LimitBackend } from './limit-backend.js'
import { LocalBackend } from './local-backend.js'
import { RetryBackend } from './retry-backend.js'
import type { RetryPolicy } from './retry-policy.js'
import type { S3BackendOptions } from './s3-backend.js'
import { isS3Location, parseS3Location } from './s3-location.js'

export interface OpenBackendOptions {
  /** Options of an `s3:` location (credentials, region, CA, storage class, limits…). */
  readonly s3?: S3BackendOptions
  /** Retries of a remote backend's calls (defaults: DEFAULT_RETRY); `false` turns them off. */
  readonly retry?: RetryPolicy | false
  /** Retries are logged here (warn), SDK notices too (debug). Default: silent. */
  readonly log?: Logger
}

/**
 * Opens the storage a repository location names:
 *
 * - `s3:https://host[:port]/bucket[/prefix]` (and restic's other `s3:` forms): an S3Backend
 *   behind a LimitBackend (`connections` calls at once) behind a RetryBackend;
 * - `local:/path` or a plain path: a LocalBackend (a local disk fails rarely and not
 *   transiently; its errors go straight to the caller, as before).
 *
 * Nothing is contacted yet: the first call does (`create` for a new repository).
 *
 * @example
 * const backend = await openBackend('s3:https://s3.example.net/backups/shop', {
 *   s3: { region: 'eu-central-1', storageClass: 'STANDARD_IA' },
 * })
 */
export async function openBackend(
  location: string,
  opts: OpenBackendOptions = {},
): Promise<Backend> {
  if (isS3Location(location)) {
    const log = opts.log ? { log: opts.log } : {}
    const retry = opts.retry === false ? { maxAttempts: 1 } : { ...log, ...opts.retry }
    const { S3Backend } = await import('./s3-backend.js')
    const s3 = new S3Backend(parseS3Location(location), { pageRetry: retry, ...log, ...opts.s3 })
    return new RetryBackend(new LimitBackend(s3), retry)
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('local:')) {
    // Never repeat the location: an unknown scheme may carry credentials in its text.
    throw new InvalidInputError(
      'repo',
      'This kind of repository location is not supported: use a directory or s3:https://host/bucket[/prefix].',
    )
  }
  return LocalBackend.open(location.replace(/^local:/, ''))
}
