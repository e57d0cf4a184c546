import { spawn } from 'node:child_process'
import { CofferError } from '../errors.js'

/**
 * Runs a maintenance hook (the environment's hold or release command) with a time limit.
 * The command is the operator's; its text is not logged (it may embed credentials), only
 * which hook ran and how it ended.
 */
export function runHook(
  which: 'hold' | 'release',
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 2000) stderr += b.toString()
    })
    child.on('error', (e) =>
      reject(new CofferError('capture_failed', `The ${which} hook could not run.`, { cause: e })),
    )
    child.on('close', (code, sig) => {
      if (code === 0) resolve()
      else {
        const why = sig
          ? `was stopped (${sig}${sig === 'SIGTERM' ? ', time limit' : ''})`
          : `exited with ${code}`
        reject(
          new CofferError('capture_failed', `The ${which} hook ${why}.`, {
            cause: new Error(stderr.trim()),
          }),
        )
      }
    })
  })
}
