import { posix } from 'node:path'
import { InvalidInputError } from '../../errors.js'

/**
 * Where an S3 repository is: the parsed form of restic's location syntax
 * (`internal/backend/s3/config.go`, ParseConfig), so the same string works in both tools:
 *
 * - `s3:https://host[:port]/bucket[/prefix]` and `s3:http://…` (an explicit endpoint URL);
 * - `s3://host/bucket[/prefix]` and `s3:host/bucket[/prefix]` (HTTPS implied).
 */
export interface S3Location {
  /** Endpoint URL without path: `https://host[:port]`. */
  readonly endpoint: string
  /** Host name without port (for addressing decisions). */
  readonly hostname: string
  readonly bucket: string
  /** Key prefix without leading or trailing slash; empty for the bucket's root. */
  readonly prefix: string
  /** The location for messages: `s3:https://host[:port]/bucket[/prefix]`, never credentials. */
  readonly display: string
}

/** Whether a repository location names S3 storage (restic's `s3:` scheme). */
export function isS3Location(location: string): boolean {
  return location.startsWith('s3:')
}

// S3's rules are stricter (3–63 lower-case characters); MinIO, Ceph and older regions accept
// upper case and underscores, so only what cannot be a bucket name is refused here.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * Parses an `s3:` location. Refuses credentials in the URL without repeating the location
 * (it would put the secret in a message): keys come from the environment or options.
 *
 * @example
 * parseS3Location('s3:https://127.0.0.1:9000/backups/shop')
 * // → { endpoint: 'https://127.0.0.1:9000', bucket: 'backups', prefix: 'shop', … }
 */
export function parseS3Location(location: string): S3Location {
  if (!isS3Location(location)) {
    throw new InvalidInputError('repo', 'An S3 repository location starts with "s3:".')
  }
  const rest = location.slice(3)
  let scheme: 'http' | 'https' = 'https'
  let hostPart: string
  let path: string
  if (/^https?:\/\//.test(rest)) {
    let url: URL
    try {
      url = new URL(rest)
    } catch (e) {
      throw new InvalidInputError(
        'repo',
        'The S3 endpoint in the repository location is not a URL.',
        {
          cause: e,
        },
      )
    }
    if (url.username || url.password) throw credentialsInLocation()
    if (url.search || url.hash) {
      throw new InvalidInputError('repo', 'An S3 repository location takes no query or fragment.')
    }
    scheme = url.protocol === 'http:' ? 'http' : 'https'
    hostPart = url.host
    // The path as written: URL resolves `..` segments, which would change the bucket
    // silently (Go's url.Parse, which restic uses, keeps them).
    const afterScheme = rest.slice(rest.indexOf('//') + 2)
    const slash = afterScheme.indexOf('/')
    path = slash < 0 ? '' : decodeURIComponent(afterScheme.slice(slash + 1))
  } else {
    const s = rest.startsWith('//') ? rest.slice(2) : rest
    const slash = s.indexOf('/')
    hostPart = slash < 0 ? s : s.slice(0, slash)
    path = slash < 0 ? '' : s.slice(slash + 1)
    if (hostPart.includes('@')) throw credentialsInLocation()
  }
  if (!hostPart) {
    throw new InvalidInputError('repo', 'The S3 repository location names no host.')
  }
  const cut = path.indexOf('/')
  const bucket = cut < 0 ? path : path.slice(0, cut)
  const rawPrefix = cut < 0 ? '' : path.slice(cut + 1)
  if (!bucket || !BUCKET.test(bucket) || /^\.+$/.test(bucket)) {
    throw new InvalidInputError(
      'repo',
      'The S3 repository location names no valid bucket: use s3:https://host/bucket[/prefix].',
    )
  }
  // restic cleans the prefix with path.Clean; a prefix that climbs out of itself is refused
  // rather than guessed at.
  const prefix = rawPrefix ? posix.normalize(rawPrefix).replace(/^\/+|\/+$/g, '') : ''
  if (prefix === '.' || prefix.split('/').includes('..')) {
    throw new InvalidInputError('repo', 'The prefix of the S3 repository location is not a path.')
  }
  const endpoint = `${scheme}://${hostPart}`
  const hostname = hostPart.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  return {
    endpoint,
    hostname,
    bucket,
    prefix,
    display: `s3:${endpoint}/${bucket}${prefix ? `/${prefix}` : ''}`,
  }
}

function credentialsInLocation(): InvalidInputError {
  return new InvalidInputError(
    'repo',
    'Credentials do not belong in the repository location: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile) instead.',
  )
}
