import { HEX64, JsonFields } from './json-fields.js'
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

/** Parses the decrypted config; throws a plain Error on anything unexpected. */
export function parseConfig(json: Buffer): RepoConfig {
  const f = new JsonFields(JSON.parse(json.toString('utf8')), 'the config')
  const c = {
    version: f.int('version'),
    id: f.matching('id', HEX64, 'an ID'),
    chunker_polynomial: f.matching('chunker_polynomial', /^[0-9a-f]{1,16}$/, 'a polynomial in hex'),
  }
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
