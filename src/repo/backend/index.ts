/**
 * @module Storage for repository files: the Backend contract and its implementations
 * (local directory, memory), plus wrappers that add behaviour to any backend.
 */
export { CONFIG_HANDLE, FILE_TYPES, handleName } from './backend.js'
export type { Backend, CallOptions, FileInfo, FileType, Handle, LoadOptions } from './backend.js'
export { isNotFound, notFoundError } from './backend-errors.js'
export { LocalBackend } from './local-backend.js'
export { MemoryBackend } from './memory-backend.js'
