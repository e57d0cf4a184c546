/**
 * @module Content-defined chunking compatible with restic's (Rabin fingerprints over a
 * 64-byte window, the polynomial from the repository config), so that the same bytes backed
 * up by restic or Coffer give the same data blobs.
 */
export {
  deg,
  formatPolynomial,
  irreducible,
  parsePolynomial,
  randomPolynomial,
} from './polynomial.js'
export type { Polynomial } from './polynomial.js'
export { chunkStream, MAX_SIZE, MIN_SIZE, RabinChunker } from './rabin-chunker.js'
