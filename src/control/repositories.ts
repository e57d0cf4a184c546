import { LocalBackend, Repository, type KdfParams } from '../repo/index.js'
import type { Logger } from '../lib/index.js'
import type { RepositoryInitializer, RepositoryOpener } from './ports.js'

/**
 * Repositories in local directories (S3-compatible storage comes with its backend): the
 * opener and initialiser `coffer serve` gives the control plane. `kdf` is the key
 * derivation cost of new repositories (tests pass restic's cheap test parameters).
 */
export function localRepositories(opts: { readonly kdf?: KdfParams; readonly log?: Logger } = {}): {
  open: RepositoryOpener
  init: RepositoryInitializer
} {
  return {
    open: async (location, password, signal) =>
      Repository.open({
        backend: await LocalBackend.open(location),
        password,
        ...(opts.log ? { log: opts.log } : {}),
        ...(signal ? { signal } : {}),
      }),
    init: async (location, password, signal) =>
      Repository.init({
        backend: await LocalBackend.open(location),
        password,
        ...(opts.kdf ? { kdf: opts.kdf } : {}),
        ...(opts.log ? { log: opts.log } : {}),
        ...(signal ? { signal } : {}),
      }),
  }
}
