/**
 * @module Content-defined chunking compatible with restic's (github.com/restic/chunker:
 * Rabin fingerprints over a 64-byte window, the polynomial from the repository config), so
 * the same bytes backed up by restic or by Coffer give the same chunks and data blobs. Also
 * the GF(2) polynomial arithmetic that draws and checks the config's polynomial.
 */
export {
  deg,
  divMod,
  formatPolynomial,
  gcd,
  irreducible,
  MAX_DEGREE,
  MIN_DEGREE,
  mod,
  mulMod,
  parsePolynomial,
  randomPolynomial,
} from './polynomial.js'
export type { Polynomial } from './polynomial.js'
export { ChunkAssembler, chunkStream, MAX_SIZE, MIN_SIZE, RabinChunker } from './rabin-chunker.js'
export type {
  AssemblerOptions,
  Chunker,
  ChunkerOptions,
  ChunkStreamOptions,
} from './rabin-chunker.js'
export { GearChunker } from './gear-chunker.js'
export { IdleAssemblers } from './idle-assemblers.js'
