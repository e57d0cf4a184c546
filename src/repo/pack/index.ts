/**
 * @module Pack files: building them from sealed blobs, reading and verifying their headers.
 */
export { BLOB_TYPES, plaintextLength } from './blob.js'
export type { BlobLocation, BlobType } from './blob.js'
export { PackBuilder } from './pack-builder.js'
export type { FinishedPack } from './pack-builder.js'
export { decodePackHeader, encodePackHeader } from './pack-header.js'
export type { PackEntry } from './pack-header.js'
export { readPackHeader } from './pack-reader.js'
