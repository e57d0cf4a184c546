import type { Polynomial } from './polynomial.js'
import type { ChunkAssembler } from './rabin-chunker.js'

/**
 * Assemblers of ended streams, kept for the next streams of the same polynomial: each keeps
 * the buffer it grew for a chunk's bytes that span feeds (up to the largest chunk, 8 MiB),
 * which would otherwise be fresh memory again for every stream. At most `max` per polynomial.
 */
export class IdleAssemblers {
  private readonly idle = new Map<Polynomial, ChunkAssembler[]>()

  constructor(
    private readonly make: (pol: Polynomial) => ChunkAssembler,
    private readonly max = 2,
  ) {}

  /** An idle assembler for `pol`, or a new one. */
  take(pol: Polynomial): ChunkAssembler {
    return this.idle.get(pol)?.pop() ?? this.make(pol)
  }

  /** Takes back an assembler whose stream is over, ended or not (what it held is dropped). */
  give(pol: Polynomial, assembler: ChunkAssembler): void {
    assembler.reset()
    const idle = this.idle.get(pol) ?? []
    if (idle.length < this.max) idle.push(assembler)
    this.idle.set(pol, idle)
  }
}
