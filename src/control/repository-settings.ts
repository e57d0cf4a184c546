import { isAbsolute, join } from 'node:path'
import { InvalidInputError } from '../errors.js'
import { BUCKET_LOOKUPS, isS3Location, parseS3Location, type BucketLookup } from '../repo/index.js'

/** How a bucket may be addressed (for the API's schema, which does not see src/repo). */
export const S3_BUCKET_LOOKUPS = BUCKET_LOOKUPS

/**
 * A project's own settings for a repository in S3-compatible storage. Sealed under the master
 * key as a whole (credentials are secrets; the rest rides along), never returned by the API.
 * Unset fields fall back to the server's defaults (its environment: AWS_* variables).
 */
export interface RepositoryS3Settings {
  readonly accessKeyId?: string
  readonly secretAccessKey?: string
  readonly sessionToken?: string
  readonly region?: string
  readonly bucketLookup?: BucketLookup
  /** PEM certificates to trust (a private CA). */
  readonly ca?: string
  /** Storage class of data packs. */
  readonly storageClass?: string
}

/**
 * Where a new project's repository goes when none is given: `<base>/<project>`, where the
 * server's base (`coffer serve --repos`) is a directory or an `s3:` location.
 */
export function defaultRepositoryLocation(base: string, project: string): string {
  return isS3Location(base) ? `${base.replace(/\/+$/, '')}/${project}` : join(base, project)
}

/**
 * Checks a repository location an operator gave: an absolute directory or an `s3:` location
 * (restic's syntax). The message never repeats the text: a mistyped location may hold a
 * credential.
 */
export function checkRepositoryLocation(location: string, s3?: RepositoryS3Settings): void {
  if (isS3Location(location)) {
    try {
      parseS3Location(location)
    } catch (e) {
      throw new InvalidInputError(
        'repository.location',
        'The repository location is not a valid s3: location (s3:https://host[:port]/bucket[/prefix]).',
        { cause: e },
      )
    }
    if (Boolean(s3?.accessKeyId) !== Boolean(s3?.secretAccessKey))
      throw new InvalidInputError(
        'repository.s3',
        'An S3 access key ID and its secret access key go together.',
      )
    return
  }
  if (s3)
    throw new InvalidInputError(
      'repository.s3',
      'S3 settings apply only to a repository location in S3 (s3:https://…).',
    )
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) || !isAbsolute(location))
    throw new InvalidInputError(
      'repository.location',
      'A repository location is an absolute directory or s3:https://host[:port]/bucket[/prefix].',
    )
}
