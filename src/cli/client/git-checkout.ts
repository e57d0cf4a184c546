import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { CofferError, messageOf } from '../../errors.js'

/** A git working tree: its top directory and the checked-out branch (none when detached). */
export interface Checkout {
  readonly root: string
  readonly branch: string | undefined
}

/** `.coffer/config.yaml` of a checkout: the Coffer project this code belongs to. */
export interface RemoteConfig {
  readonly project: string
}

export const REMOTE_CONFIG = join('.coffer', 'config.yaml')

/**
 * The checkout that holds `cwd`, found as git does: the nearest ancestor with a `.git`
 * directory, or a `.git` file (`gitdir: …`, worktrees and submodules). The branch is read
 * from HEAD (`ref: refs/heads/<branch>`), so no git binary is needed.
 */
export async function findCheckout(cwd: string): Promise<Checkout | undefined> {
  let dir = resolve(cwd)
  for (;;) {
    const dotGit = join(dir, '.git')
    const st = await stat(dotGit).catch(() => undefined)
    if (st) {
      const gitDir = st.isDirectory() ? dotGit : await gitDirFromFile(dotGit, dir)
      if (gitDir) return { root: dir, branch: await headBranch(gitDir) }
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

async function gitDirFromFile(file: string, dir: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text)
  if (!m) return undefined
  return isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!)
}

async function headBranch(gitDir: string): Promise<string | undefined> {
  const head = await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '')
  const m = /^ref:\s*refs\/heads\/(.+?)\s*$/m.exec(head)
  return m ? m[1] : undefined
}

/** Reads `.coffer/config.yaml` (the few `key: value` lines Coffer writes). */
export async function readRemoteConfig(root: string): Promise<RemoteConfig | undefined> {
  const file = join(root, REMOTE_CONFIG)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CofferError('invalid_input', `Cannot read ${file}: ${messageOf(e)}.`)
  }
  const values = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line)
    if (m) values.set(m[1]!, unquote(m[2]!))
  }
  const project = values.get('project')
  if (!project)
    throw new CofferError(
      'invalid_input',
      `${file} names no project: run coffer project:set-remote PROJECT.`,
    )
  return { project }
}

function unquote(v: string): string {
  const m = /^(['"])(.*)\1$/.exec(v)
  return m ? m[2]! : v
}

/** Writes `.coffer/config.yaml` at the top of the checkout; returns its path. */
export async function writeRemoteConfig(root: string, config: RemoteConfig): Promise<string> {
  const file = join(root, REMOTE_CONFIG)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(
    file,
    `# The Coffer project of this code; the environment is the checked-out branch.\nproject: ${config.project}\n`,
  )
  return file
}
