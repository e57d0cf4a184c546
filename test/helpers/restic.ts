import { execFile, spawn } from 'node:child_process'

/** Runs the real restic (Debian's, the test oracle) on `repo` with `password`. */
export function restic(
  repo: string,
  password: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'restic',
      ['--no-cache', '-r', repo, ...args],
      {
        cwd: opts.cwd,
        env: { ...process.env, RESTIC_PASSWORD: password, RESTIC_PROGRESS_FPS: '0.1', ...opts.env },
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number')
          return reject(new Error(`cannot run restic: ${error.message}`))
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
      },
    )
  })
}

/** Like `restic` but throws with restic's stderr when it fails. */
export async function resticOk(
  repo: string,
  password: string,
  args: readonly string[],
  opts: { cwd?: string } = {},
): Promise<string> {
  const r = await restic(repo, password, args, opts)
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** `restic cat <what> [id]` raw bytes (for blobs with binary content). */
export function resticCatRaw(
  repo: string,
  password: string,
  args: readonly string[],
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('restic', ['--no-cache', '-r', repo, 'cat', ...args], {
      env: { ...process.env, RESTIC_PASSWORD: password },
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`restic cat ${args.join(' ')}: ${Buffer.concat(err).toString()}`))
      else resolve(Buffer.concat(out))
    })
  })
}
