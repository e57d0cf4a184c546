import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { CofferError, messageOf } from '../../errors.js'

/** What `auth:login` keeps: the server, who signed in, and the session token (a secret). */
export interface StoredAuth {
  readonly url: string
  readonly user: string
  readonly token: string
  readonly expires_at: string | null
}

const StoredAuthSchema = z.object({
  url: z.string(),
  user: z.string(),
  token: z.string(),
  expires_at: z.string().nullable().default(null),
})

/** `$XDG_CONFIG_HOME/coffer`, default `~/.config/coffer`. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'coffer')
}

export function authFile(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'auth.json')
}

/** The stored sign-in, or undefined when there is none. */
export async function readAuth(env: NodeJS.ProcessEnv): Promise<StoredAuth | undefined> {
  const file = authFile(env)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CofferError('invalid_input', `Cannot read ${file}: ${messageOf(e)}.`, { cause: e })
  }
  let json: unknown
  try {
    json = JSON.parse(text) as unknown
  } catch {
    json = undefined
  }
  const r = StoredAuthSchema.safeParse(json)
  if (!r.success)
    throw new CofferError(
      'invalid_input',
      `${file} is damaged: sign in again with coffer auth:login.`,
    )
  return r.data
}

/**
 * Stores a sign-in readable by its owner only: the directory 0700, the file 0600 (set at
 * creation, and again in case the file existed with wider rights).
 */
export async function writeAuth(env: NodeJS.ProcessEnv, auth: StoredAuth): Promise<string> {
  const dir = configDir(env)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const file = authFile(env)
  await writeFile(file, `${JSON.stringify(auth, null, 2)}\n`, { mode: 0o600 })
  await chmod(file, 0o600)
  return file
}

/** Forgets the stored sign-in; true when there was one. */
export async function removeAuth(env: NodeJS.ProcessEnv): Promise<boolean> {
  const file = authFile(env)
  const existed = (await readAuth(env).catch(() => undefined)) !== undefined
  await rm(file, { force: true })
  return existed
}

/** Where the client connects and with which token: COFFER_URL/COFFER_TOKEN win over the file. */
export interface Connection {
  readonly url: string | undefined
  readonly token: string | undefined
  readonly user: string | undefined
  readonly source: 'environment' | 'file' | 'none'
}

export async function resolveConnection(env: NodeJS.ProcessEnv): Promise<Connection> {
  const stored = await readAuth(env)
  const url = trimUrl(env.COFFER_URL || stored?.url)
  // The stored token goes only to the server that issued it, never to another COFFER_URL.
  const fileToken = stored && trimUrl(stored.url) === url ? stored : undefined
  if (env.COFFER_TOKEN)
    return { url, token: env.COFFER_TOKEN, user: undefined, source: 'environment' }
  if (fileToken) return { url, token: fileToken.token, user: fileToken.user, source: 'file' }
  return { url, token: undefined, user: undefined, source: 'none' }
}

function trimUrl(url: string | undefined): string | undefined {
  return url ? url.replace(/\/+$/, '') : undefined
}
