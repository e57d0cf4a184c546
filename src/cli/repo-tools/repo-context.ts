import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { CofferError, InvalidInputError } from '../../errors.js'
import { LocalBackend, Repository, type Backend, type KdfParams } from '../../repo/index.js'

/** Options every repo:* command takes. */
export function addRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <dir>', 'repository location (default: $COFFER_REPOSITORY)')
    .option(
      '--password-file <file>',
      'read the repository password from a file (default: $COFFER_PASSWORD)',
    )
}

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

export async function openBackend(location: string): Promise<Backend> {
  if (/^[a-z0-9]+:/.test(location) && !location.startsWith('local:')) {
    throw new InvalidInputError(
      'repo',
      `Repository location "${location}" is not supported yet: use a directory.`,
    )
  }
  return LocalBackend.open(location.replace(/^local:/, ''))
}

/** Reads a password from a file (first line, as restic does) or COFFER_PASSWORD. */
export async function readPassword(
  file: string | undefined,
  envName = 'COFFER_PASSWORD',
): Promise<string> {
  if (file) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      throw new InvalidInputError('password-file', `Cannot read the password file ${file}.`, {
        cause: e,
      })
    }
    return text.split(/\r?\n/)[0] ?? ''
  }
  const env = process.env[envName]
  if (env !== undefined) return env
  throw new InvalidInputError(
    'password',
    `No password given: use --password-file FILE or set ${envName}.`,
  )
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
