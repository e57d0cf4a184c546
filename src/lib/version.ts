import { readFileSync } from 'node:fs'

/** Coffer's version, read from package.json (two levels above src/lib and dist/lib). */
export const COFFER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version
