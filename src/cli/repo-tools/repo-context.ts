import { readFile } from 'node:fs/promises'
import { readPassword } from './password.js'
import type { Command } from 'commander'
import { CofferError, InvalidInputError } from '../../errors.js'
import {
  BUCKET_LOOKUPS,
  CHECKSUM_CALCULATIONS,
  isS3Location,
  openBackend as openLocationBackend,
  Repository,
  type Backend,
  type BucketLookup,
  type ChecksumCalculation,
  type KdfParams,
  type OpenBackendOptions,
} from '../../repo/index.js'

export { readPassword }

interface RepoFlags {
  readonly repo?: string
  readonly passwordFile?: string
}

/** The repository location from the flag or COFFER_REPOSITORY. */
export function repoLocation(cmd: Command): string {
  const flags = cmd.optsWithGlobals<RepoFlags>()
  const loc = flags.repo ?? process.env.COFFER_REPOSITORY
  if (!loc)
    throw new InvalidInputError(
      'repo',
      'No repository given: use --repo DIR or set COFFER_REPOSITORY.',
    )
  return loc
}

/**
 * Opens the backend of a location (a directory or `s3:…`), with the S3 settings of the
 * environment (`backendOptionsFromEnv`).
 */
export async function openBackend(location: string): Promise<Backend> {
  if (!isS3Location(location)) return openLocationBackend(location)
  return openLocationBackend(location, await backendOptionsFromEnv(process.env))
}

/**
 * S3 settings from the environment, as restic takes them: the AWS SDK's credential chain
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE…), AWS_REGION or
 * AWS_DEFAULT_REGION,
 * AWS_CA_BUNDLE (a PEM file to trust), AWS_REQUEST_CHECKSUM_CALCULATION, and Coffer's own
 * COFFER_S3_BUCKET_LOOKUP (auto, path, dns), COFFER_S3_STORAGE_CLASS (data packs),
 * COFFER_S3_CONNECTIONS, COFFER_S3_TIMEOUT (seconds without progress) and COFFER_S3_RETRIES
 * (retries after the first attempt). docs/S3.md describes them. `coffer serve` takes its
 * defaults for projects' S3 repositories from here too.
 */
export async function backendOptionsFromEnv(env: NodeJS.ProcessEnv): Promise<OpenBackendOptions> {
  // The SDK warns on every run that its releases after 2026 need Node 22; that is a matter
  // for Coffer's own engines field, not for each operator's stderr.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION
  const caFile = env.AWS_CA_BUNDLE
  let ca: Buffer | undefined
  if (caFile) {
    try {
      ca = await readFile(caFile)
    } catch (e) {
      throw new InvalidInputError('AWS_CA_BUNDLE', `Cannot read the CA bundle ${caFile}.`, {
        cause: e,
      })
    }
  }
  const lookup = env.COFFER_S3_BUCKET_LOOKUP
  if (lookup !== undefined && !(BUCKET_LOOKUPS as readonly string[]).includes(lookup)) {
    throw new InvalidInputError(
      'COFFER_S3_BUCKET_LOOKUP',
      `COFFER_S3_BUCKET_LOOKUP must be one of ${BUCKET_LOOKUPS.join(', ')}.`,
    )
  }
  const checksums = env.AWS_REQUEST_CHECKSUM_CALCULATION?.toUpperCase()
  if (checksums && !(CHECKSUM_CALCULATIONS as readonly string[]).includes(checksums)) {
    throw new InvalidInputError(
      'AWS_REQUEST_CHECKSUM_CALCULATION',
      `AWS_REQUEST_CHECKSUM_CALCULATION must be one of ${CHECKSUM_CALCULATIONS.join(', ')}.`,
    )
  }
  const connections = positiveInt(env.COFFER_S3_CONNECTIONS, 'COFFER_S3_CONNECTIONS')
  const timeout = positiveInt(env.COFFER_S3_TIMEOUT, 'COFFER_S3_TIMEOUT')
  const retries = positiveInt(env.COFFER_S3_RETRIES, 'COFFER_S3_RETRIES', 0)
  return {
    s3: {
      ...(region ? { region } : {}),
      ...(ca ? { ca } : {}),
      ...(lookup ? { bucketLookup: lookup as BucketLookup } : {}),
      ...(checksums ? { requestChecksumCalculation: checksums as ChecksumCalculation } : {}),
      ...(env.COFFER_S3_STORAGE_CLASS ? { storageClass: env.COFFER_S3_STORAGE_CLASS } : {}),
      ...(connections !== undefined ? { connections } : {}),
      ...(timeout !== undefined ? { idleTimeoutMs: timeout * 1000 } : {}),
    },
    ...(retries !== undefined ? { retry: { maxAttempts: retries + 1 } } : {}),
  }
}

function positiveInt(value: string | undefined, name: string, min = 1): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) {
    throw new InvalidInputError(name, `${name} must be a whole number of at least ${min}.`)
  }
  return n
}

export async function openRepo(cmd: Command, signal?: AbortSignal): Promise<Repository> {
  const flags = cmd.optsWithGlobals<RepoFlags>()
  const backend = await openBackend(repoLocation(cmd))
  const password = await readPassword(flags.passwordFile)
  return Repository.open({ backend, password, ...(signal ? { signal } : {}) })
}

/** Parses `--kdf N,r,p` (scrypt parameters for new keys). */
export function parseKdf(s: string | undefined): KdfParams | undefined {
  if (s === undefined) return undefined
  const m = /^(\d+),(\d+),(\d+)$/.exec(s)
  if (!m)
    throw new InvalidInputError('kdf', `Invalid --kdf "${s}": expected N,r,p (e.g. 32768,8,1).`)
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (N < 2 || (N & (N - 1)) !== 0)
    throw new InvalidInputError('kdf', 'scrypt N must be a power of two.')
  return { N, r, p }
}

export function ensure(cond: boolean, message: string): asserts cond {
  if (!cond) throw new CofferError('invalid_input', message)
}
