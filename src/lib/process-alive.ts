import { readFileSync } from 'node:fs'

/**
 * Whether process `pid` of this host still runs. A zombie counts as gone: a process whose
 * parent was killed is reparented to PID 1, and an init that reaps lazily (some container
 * and VM inits do, a second or more later) leaves it a zombie that `kill(pid, 0)` still
 * finds, though it will never run again. Its locks and activities are then abandoned.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  return !isZombie(pid)
}

/** Linux: the state field of /proc/<pid>/stat (after the command name, which may hold ')'). */
function isZombie(pid: number): boolean {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch (e) {
    // Gone between the two looks; or no /proc here (not Linux), where kill(0) has the say.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux'
  }
  const state = stat.charAt(stat.lastIndexOf(')') + 2)
  return state === 'Z' || state === 'X'
}
