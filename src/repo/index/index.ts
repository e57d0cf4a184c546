/**
 * @module The repository index: index files and the in-memory master index of all blobs.
 */
export { encodeIndexFile, parseIndexFile, MAX_BLOBS_PER_INDEX_FILE } from './index-file.js'
export type { IndexFile, IndexedPack } from './index-file.js'
export { MasterIndex } from './master-index.js'
