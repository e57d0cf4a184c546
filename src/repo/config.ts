import { z } from 'zod'
import type { RepoVersion } from './unpacked.js'

/**
 * The repository's `config` file (design.rst, "Repository Format"): format version, a random
 * repository ID, and the chunker polynomial (hex) that content-defined chunking uses.
 */
export interface RepoConfig {
  readonly version: RepoVersion
  readonly id: string
  readonly chunkerPolynomial: string
}

const CONFIG_JSON = z.object({
  version: z.number().int(),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  chunker_polynomial: z.string().regex(/^[0-9a-f]{1,16}$/),
})

/** Parses the decrypted config; throws a plain Error on anything unexpected. */
export function parseConfig(json: Buffer): RepoConfig {
  const c = CONFIG_JSON.parse(JSON.parse(json.toString('utf8')))
  if (c.version !== 1 && c.version !== 2) {
    throw new Error(
      `repository format version ${c.version} is not supported (Coffer reads 1 and 2)`,
    )
  }
  return { version: c.version, id: c.id, chunkerPolynomial: c.chunker_polynomial }
}

/** The config's JSON, in restic's field order (internal/restic/config.go). */
export function encodeConfig(c: RepoConfig): Buffer {
  return Buffer.from(
    JSON.stringify({ version: c.version, id: c.id, chunker_polynomial: c.chunkerPolynomial }),
    'utf8',
  )
}
