import { execFile } from 'node:child_process'

/**
 * The commit checked out in a git directory (`git rev-parse HEAD`), recorded with each
 * snapshot so users can match data to code. Undefined when the directory is not a checkout
 * or git is missing: a snapshot never fails for want of a commit.
 */
export function headCommit(gitDir: string, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', gitDir, 'rev-parse', 'HEAD'],
      { timeout: 10_000, ...(signal ? { signal } : {}) },
      (err, stdout) => {
        const commit = String(stdout).trim()
        resolve(!err && /^[0-9a-f]{40,64}$/.test(commit) ? commit : undefined)
      },
    )
  })
}
