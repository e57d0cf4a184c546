import type { BlobId, IndexId, PackId } from '../id.js'
import type { BlobLocation, BlobType, PackEntry } from '../pack/index.js'

/**
 * All known blobs of a repository: where each is stored. Built from the index files at open
 * and extended as packs are written. A blob may be stored in several packs (concurrent
 * backups, interrupted prunes); lookups return the first location, `locations` all of them.
 *
 * Data and tree blobs live in separate maps: the same bytes saved as a file and as a tree
 * are two different blobs (restic's BlobHandle is ID and type).
 */
export class MasterIndex {
  private readonly byType: Record<BlobType, Map<BlobId, BlobLocation[]>> = {
    data: new Map(),
    tree: new Map(),
  }
  private readonly packEntries = new Map<PackId, readonly PackEntry[]>()
  /** Which index files describe each pack (prune rewrites those files). */
  readonly packIndexFiles = new Map<PackId, Set<IndexId>>()

  addPack(packId: PackId, entries: readonly PackEntry[], indexFile?: IndexId): void {
    if (indexFile) {
      let files = this.packIndexFiles.get(packId)
      if (!files) this.packIndexFiles.set(packId, (files = new Set()))
      files.add(indexFile)
    }
    if (this.packEntries.has(packId)) return
    this.packEntries.set(packId, entries)
    for (const e of entries) {
      const loc: BlobLocation = { ...e, packId }
      const map = this.byType[e.type]
      const list = map.get(e.id)
      if (list) list.push(loc)
      else map.set(e.id, [loc])
    }
  }

  has(type: BlobType, id: BlobId): boolean {
    return this.byType[type].has(id)
  }

  lookup(type: BlobType, id: BlobId): BlobLocation | undefined {
    return this.byType[type].get(id)?.[0]
  }

  locations(type: BlobType, id: BlobId): readonly BlobLocation[] {
    return this.byType[type].get(id) ?? []
  }

  /** Every indexed pack with its entries. */
  packs(): ReadonlyMap<PackId, readonly PackEntry[]> {
    return this.packEntries
  }

  blobCount(type: BlobType): number {
    return this.byType[type].size
  }
}
