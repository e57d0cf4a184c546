import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import {
  isS3Location,
  LocalBackend,
  openBackend,
  Repository,
  TEST_KDF,
  type Backend,
} from '../../src/repo/index.js'
import { startS3Server, type S3TestServer } from './s3-server.js'

export const BACKEND_KINDS = ['local', 's3'] as const
export type BackendKind = (typeof BACKEND_KINDS)[number]

/**
 * The backend the repository-level tests run on: `COFFER_TEST_BACKEND=s3` runs them against
 * s3rver, anything else (the default) on local directories. The same test files run on both
 * (`npm test` and `npm run test:s3`), none is copied.
 */
export function testBackendKind(): BackendKind {
  const kind = process.env.COFFER_TEST_BACKEND ?? 'local'
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`COFFER_TEST_BACKEND must be one of ${BACKEND_KINDS.join(', ')}, not ${kind}`)
  }
  return kind as BackendKind
}

/** Repository locations for the current backend kind, for one test file. */
export interface TestRepos {
  readonly kind: BackendKind
  /**
   * A location for a new repository, good for `coffer --repo` and `restic -r` alike: a path
   * under `dir` on the local kind, a bucket of its own on S3. `label` names it.
   */
  location(dir: string, label: string): string
  /**
   * Opens a backend on a location (in-process tests), as the CLI would. The file's afterAll
   * closes it (the S3 client's sockets would otherwise outlive the server).
   */
  backend(location: string): Promise<Backend>
  /** Creates a repository at a new location with the cheap test KDF, through `backend`. */
  init(location: string, password: string): Promise<Repository>
  /** The S3 server, on the S3 kind. */
  readonly server: S3TestServer | undefined
}

/**
 * Call at the top of a test file. On the S3 kind it starts s3rver before the file's tests
 * and stops it after, and puts into this process's environment what child processes need to
 * reach it (credentials, CA for Node and Go, the test-only checksum setting): coffer and
 * restic, started with this environment, take the S3 locations as they take directories.
 *
 * @example
 * const repos = useTestRepos()
 * beforeAll(async () => { repo = repos.location(tmp.path, 'coffer-writes') })
 */
export function useTestRepos(kind: BackendKind = testBackendKind()): TestRepos {
  let server: S3TestServer | undefined
  const saved = new Map<string, string | undefined>()
  const opened: Backend[] = []
  if (kind === 's3') {
    beforeAll(async () => {
      server = await startS3Server('repos')
      for (const [k, v] of Object.entries(server.env)) {
        saved.set(k, process.env[k])
        process.env[k] = v
      }
    })
  }
  // One hook, so the order is sure: the backends close before the server stops.
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()))
    if (kind === 's3') {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      await server?.stop()
    }
  })
  async function backend(location: string): Promise<Backend> {
    let b: Backend
    if (!isS3Location(location)) b = await LocalBackend.open(location)
    else if (!server) throw new Error('useTestRepos: no S3 server on the local kind')
    else b = await openBackend(location, { s3: server.clientOptions })
    opened.push(b)
    return b
  }
  return {
    kind,
    get server() {
      return server
    },
    location(dir, label) {
      if (kind === 'local') return join(dir, label)
      if (!server) throw new Error('useTestRepos: the S3 server starts in beforeAll; ask later')
      return server.freshLocation(label)
    },
    backend,
    async init(location, password) {
      return Repository.init({ backend: await backend(location), password, kdf: TEST_KDF })
    },
  }
}
