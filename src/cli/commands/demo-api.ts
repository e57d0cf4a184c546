import { existsSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CofferError, ERROR_CODES, type ErrorCode } from '../../errors.js'
import { DEMO_MYSQL_CANDIDATES, type DemoApi } from '../../demo/index.js'

/** The built console next to the package (`npm run build:web` writes it). */
export const PACKAGED_CONSOLE = fileURLToPath(new URL('../../../web/dist', import.meta.url))

/** `$XDG_DATA_HOME/coffer`, default `~/.local/share/coffer` (as `coffer serve`). */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'coffer')
}

/** Where the demo looks for MariaDB/MySQL: COFFER_DEMO_MYSQL_URL, else the local defaults. */
export function mysqlCandidates(env: NodeJS.ProcessEnv): readonly string[] {
  return env.COFFER_DEMO_MYSQL_URL ? [env.COFFER_DEMO_MYSQL_URL] : DEMO_MYSQL_CANDIDATES
}

/**
 * The password of the operator `admin` for `npm start`: COFFER_ADMIN_PASSWORD, else the one a
 * previous start generated (kept beside the master key, mode 0600), else, on a fresh data
 * directory, a new one.
 */
export async function adminPassword(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  fresh: boolean,
  generate: () => string,
): Promise<{ password: string; file?: string } | undefined> {
  if (env.COFFER_ADMIN_PASSWORD) return { password: env.COFFER_ADMIN_PASSWORD }
  const file = join(dataDir, 'admin-password')
  if (existsSync(file)) return { password: (await readFile(file, 'utf8')).trim(), file }
  if (!fresh) return undefined
  const password = generate()
  await writeFile(file, password + '\n', { mode: 0o600 })
  await chmod(file, 0o600)
  return { password, file }
}

/** Signs in as `admin` and returns the demo's JSON caller. */
export async function operatorApi(url: string, password: string): Promise<DemoApi> {
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    const json: unknown = text ? JSON.parse(text) : undefined
    if (!res.ok) {
      // The API's problem details carry the code and the sentence for the user: pass them on.
      const p = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {}
      const code = ERROR_CODES.find((c) => c === p.code) ?? 'internal'
      const detail = typeof p.detail === 'string' ? p.detail : `HTTP ${res.status}`
      throw new CofferError(code satisfies ErrorCode, `${method} ${path}: ${detail}`)
    }
    return json
  }
  const login = (await call('POST', '/api/auth/login', { user: 'admin', password })) as {
    token: string
  }
  return (method, path, body) => call(method, path, body, login.token)
}
