/**
 * @module Storage for repository files: the Backend contract and its implementations
 * (local directory, memory, S3-compatible), wrappers that add behaviour to any backend
 * (retries, a connection limit), and `openBackend`, which turns a location into a backend.
 */
export { CONFIG_HANDLE, FILE_TYPES, handleName } from './backend.js'
export type {
  Backend,
  CallOptions,
  FileInfo,
  FileType,
  Handle,
  LoadOptions,
  PackSpool,
  SpooledFile,
} from './backend.js'
export { isNotFound, notFoundError } from './backend-errors.js'
export { LimitBackend } from './limit-backend.js'
export { LocalBackend } from './local-backend.js'
export { MemoryBackend } from './memory-backend.js'
export { openBackend } from './open-backend.js'
export type { OpenBackendOptions } from './open-backend.js'
export { RetryBackend } from './retry-backend.js'
export { DEFAULT_RETRY, isRetryable } from './retry-policy.js'
export type { RetryEvent, RetryPolicy } from './retry-policy.js'
// S3Backend itself is loaded on demand by openBackend (import it from './s3-backend.js'
// directly): the AWS SDK it needs would otherwise load with every command.
export type { S3Backend, S3BackendOptions } from './s3-backend.js'
export { BUCKET_LOOKUPS, CHECKSUM_CALCULATIONS } from './s3-options.js'
export type { BucketLookup, ChecksumCalculation } from './s3-options.js'
export type { S3ClientOptions, S3Credentials } from './s3-client.js'
export { isS3Location, parseS3Location } from './s3-location.js'
export type { S3Location } from './s3-location.js'
