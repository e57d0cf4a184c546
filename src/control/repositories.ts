import type { Logger } from '../lib/index.js'
import {
  openBackend,
  Repository,
  type Backend,
  type KdfParams,
  type OpenBackendOptions,
  type S3BackendOptions,
  TreeCache,
  UserKeyCache,
} from '../repo/index.js'
import type { RepositoryInitializer, RepositoryOpener, RepositoryTarget } from './ports.js'
import type { RepositoryS3Settings } from './repository-settings.js'

export interface RepositoriesOptions {
  /** Key derivation cost of new repositories (tests pass restic's cheap test parameters). */
  readonly kdf?: KdfParams
  readonly log?: Logger
  /** The server's defaults for S3 locations (from its environment), under each project's own. */
  readonly backend?: OpenBackendOptions
}

/**
 * The opener and initialiser `coffer serve` gives the control plane: repositories in local
 * directories or S3-compatible storage, by location.
 */
export function repositories(opts: RepositoriesOptions = {}): {
  open: RepositoryOpener
  init: RepositoryInitializer
} {
  const backendOf = (t: RepositoryTarget): Promise<Backend> =>
    openBackend(t.location, {
      ...opts.backend,
      ...(opts.log ? { log: opts.log } : {}),
      s3: { ...opts.backend?.s3, ...s3Options(t.s3) },
    })
  // Every activity opens its repository: scrypt runs once per repository and password, and
  // a tree is decoded once while it is used often enough to stay in the cache.
  const userKeys = new UserKeyCache()
  const trees = new TreeCache()
  return {
    open: async (t, signal) =>
      Repository.open({
        backend: await backendOf(t),
        password: t.password,
        userKeys,
        trees,
        ...(opts.log ? { log: opts.log } : {}),
        ...(signal ? { signal } : {}),
      }),
    init: async (t, signal) =>
      Repository.init({
        backend: await backendOf(t),
        password: t.password,
        ...(opts.kdf ? { kdf: opts.kdf } : {}),
        ...(opts.log ? { log: opts.log } : {}),
        ...(signal ? { signal } : {}),
      }),
  }
}

function s3Options(s: RepositoryS3Settings | undefined): S3BackendOptions {
  if (!s) return {}
  return {
    ...(s.accessKeyId && s.secretAccessKey
      ? {
          credentials: {
            accessKeyId: s.accessKeyId,
            secretAccessKey: s.secretAccessKey,
            ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}),
          },
        }
      : {}),
    ...(s.region ? { region: s.region } : {}),
    ...(s.bucketLookup ? { bucketLookup: s.bucketLookup } : {}),
    ...(s.ca ? { ca: s.ca } : {}),
    ...(s.storageClass ? { storageClass: s.storageClass } : {}),
  }
}
