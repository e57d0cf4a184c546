/**
 * @module The repository engine: restic's repository format (versions 1 and 2) in
 * TypeScript. Open or create a repository, write snapshots as streams (SnapshotWriter),
 * read them back (RepoReader), and maintain the repository (check, forget, prune). Everything
 * Coffer stores goes through here; it knows nothing of databases, environments or HTTP.
 */
export {
  BUCKET_LOOKUPS,
  CHECKSUM_CALCULATIONS,
  CONFIG_HANDLE,
  LocalBackend,
  MemoryBackend,
  handleName,
  isNotFound,
  isS3Location,
  openBackend,
  parseS3Location,
} from './backend/index.js'
export type {
  Backend,
  BucketLookup,
  CallOptions,
  ChecksumCalculation,
  FileInfo,
  FileType,
  Handle,
  LoadOptions,
  OpenBackendOptions,
  S3BackendOptions,
} from './backend/index.js'
export { DEFAULT_KDF, parseKeyFile, TEST_KDF, UserKeyCache } from './crypto/index.js'
export type { KdfParams } from './crypto/index.js'
export { checkRepository } from './check.js'
export { readContentsByPack } from './content-by-pack.js'
export type { ContentByPackOptions, ContentJob, ContentSink } from './content-by-pack.js'
export type { CheckFinding, CheckOptions, CheckResult } from './check.js'
export { forget } from './forget.js'
export type { ForgetGroup, ForgetOptions } from './forget.js'
export {
  applyPolicy,
  groupSnapshots,
  parsePolicyDuration,
  formatDuration,
} from './forget-policy.js'
export type { ForgetPolicy, GroupBy, KeepDecision, PolicyDuration } from './forget-policy.js'
export { formatGoTime, goTimeFromNs, goTimeNow, parseGoTime } from './go/index.js'
export type { GoTime } from './go/index.js'
export { hashId, isId, parseId, shortId } from './id.js'
export type { BlobId, PackId, SnapshotId } from './id.js'
export { describeLock, removeLocks, RepoLockedError } from './lock.js'
export type { LockInfo, RepoLock } from './lock.js'
export { planPrune, prune } from './prune.js'
export type { PrunePlan, PruneOptions, PruneResult } from './prune.js'
export { matches, RepoReader } from './repo-reader.js'
export type { SnapshotFilter } from './repo-reader.js'
export { addKeyFile, Repository } from './repository.js'
export type { InitOptions, OpenOptions } from './repository.js'
export type { Snapshot, SnapshotSummary, StoredSnapshot } from './snapshot.js'
export { emptyCounts, SnapshotWriter } from './snapshot-writer.js'
export type { BackupCounts, CommitOptions, SnapshotWriterOptions } from './snapshot-writer.js'
export { treePath } from './tree-builder.js'
export { TREE_CACHE_NODES, TreeCache } from './tree-cache.js'
export type { TreePath } from './tree-builder.js'
export { GO_MODE, goModeFromPosix, nodeNameText, posixPermFromGo } from './tree/index.js'
export type { ExtendedAttribute, Node, NodeType, TreeId } from './tree/index.js'
export { JsonFields } from './json-fields.js'
export { ChunkAssembler, GearChunker, parsePolynomial } from './chunker/index.js'
export type { Polynomial } from './chunker/index.js'
export type { HashedChunk } from './workers/worker-chunking.js'
