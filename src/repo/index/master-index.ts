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
  /** One location per blob, or a list for a blob stored in several packs (rare). */
  private readonly byType: Record<BlobType, Map<BlobId, BlobLocation | BlobLocation[]>> = {
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
      // Index files' entries carry their pack's ID already (parseIndexFile).
      const loc: BlobLocation =
        (e as Partial<BlobLocation>).packId === packId ? (e as BlobLocation) : { ...e, packId }
      const map = this.byType[e.type]
      const had = map.get(e.id)
      if (had === undefined) map.set(e.id, loc)
      else if (Array.isArray(had)) had.push(loc)
      else map.set(e.id, [had, loc])
    }
  }

  has(type: BlobType, id: BlobId): boolean {
    return this.byType[type].has(id)
  }

  lookup(type: BlobType, id: BlobId): BlobLocation | undefined {
    const had = this.byType[type].get(id)
    return Array.isArray(had) ? had[0] : had
  }

  locations(type: BlobType, id: BlobId): readonly BlobLocation[] {
    const had = this.byType[type].get(id)
    return had === undefined ? [] : Array.isArray(had) ? had : [had]
  }

  /** Every indexed pack with its entries. */
  packs(): ReadonlyMap<PackId, readonly PackEntry[]> {
    return this.packEntries
  }

  blobCount(type: BlobType): number {
    return this.byType[type].size
  }
}
