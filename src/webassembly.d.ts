/**
 * The part of the WebAssembly JavaScript API that Coffer uses: Node has it all, but neither
 * ES2023's lib nor @types/node 20 declares it (row-format-encoder.ts).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array)
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>)
    readonly exports: Record<string, unknown>
  }
  class Memory {
    readonly buffer: ArrayBuffer
    /** Adds `pages` pages of 64 KiB; throws a RangeError past the engine's limit. */
    grow(pages: number): number
  }
}
