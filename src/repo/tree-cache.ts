import type { Node, TreeId } from './tree/index.js'

/**
 * Nodes kept at most by default: about 35 MB of heap (some 700 bytes a node), the trees of a
 * shop's mounts of 50,000 files.
 */
export const TREE_CACHE_NODES = 50_000

/**
 * Decoded trees kept across the activities of a long-lived process: the server opens a
 * repository again for every activity, and each restore plan, capture parent, preview or
 * console listing read and decoded the same trees again (50-60 ms for the 15,000 nodes of
 * the bench's mounts, more in a cold process). A tree is content-addressed and verified when
 * read (its ID is the SHA-256 of its plaintext), so what is kept for a tree ID stays true;
 * entries are keyed by repository ID too, so that one repository's restore never takes
 * another's tree in place of reading its own. Least recently used trees go first once the
 * cache holds more than `maxNodes` nodes. The nodes are shared: callers must not change them.
 */
export class TreeCache {
  private readonly trees = new Map<string, Node[]>()
  private nodes = 0

  constructor(private readonly maxNodes = TREE_CACHE_NODES) {}

  get(repoId: string, id: TreeId): Node[] | undefined {
    const key = `${repoId}:${id}`
    const nodes = this.trees.get(key)
    if (nodes) {
      // Most recently used last: Map keeps insertion order.
      this.trees.delete(key)
      this.trees.set(key, nodes)
    }
    return nodes
  }

  set(repoId: string, id: TreeId, nodes: Node[]): void {
    const key = `${repoId}:${id}`
    if (this.trees.has(key) || nodes.length > this.maxNodes) return
    this.trees.set(key, nodes)
    this.nodes += Math.max(1, nodes.length)
    for (const [k, v] of this.trees) {
      if (this.nodes <= this.maxNodes) break
      this.trees.delete(k)
      this.nodes -= Math.max(1, v.length)
    }
  }

  /** Trees and nodes held (for tests and diagnostics). */
  get size(): { readonly trees: number; readonly nodes: number } {
    return { trees: this.trees.size, nodes: this.nodes }
  }
}
