import { BackendError } from '../../errors.js'
import { handleName, type Handle } from './backend.js'

export function notFoundError(h: Handle, location: string, cause?: unknown): BackendError {
  return new BackendError(`Repository file ${handleName(h)} does not exist in ${location}.`, true, {
    code: 'not_found',
    cause,
  })
}

/** True when `e` says a repository file is missing. */
export function isNotFound(e: unknown): boolean {
  return e instanceof BackendError && e.code === 'not_found'
}
