import { BackendError } from '../../errors.js'

const PERMANENT = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'ENOTDIR',
  'EISDIR',
  'EFBIG',
])

/**
 * A failed file system call on repository files, as a BackendError: `what` failed, and why
 * in words where the code is common (permanent unless the code says it may pass).
 */
export function fsError(e: unknown, what: string): BackendError {
  const code = (e as NodeJS.ErrnoException).code ?? ''
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BackendError(`${what}: no space left on the device.`, true, {
      code: 'no_space',
      cause: e,
    })
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code || 'I/O error'
  return new BackendError(`${what}: ${reason}.`, PERMANENT.has(code), { cause: e })
}
