/**
 * How a Coffer snapshot is labelled in restic's metadata (DESIGN.md, "The snapshot tree"):
 * hostname = project, tags `env=<name>`, `manual` or `automatic`, `live` or `consistent`,
 * plus `coffer` so other snapshots in the same repository are told apart.
 */
export const COFFER_TAG = 'coffer'

export function snapshotTags(env: string, automated: boolean, live: boolean): string[] {
  return [
    COFFER_TAG,
    `env=${env}`,
    automated ? 'automatic' : 'manual',
    live ? 'live' : 'consistent',
  ]
}

export interface ParsedTags {
  readonly environment: string
  readonly automated: boolean
  readonly live: boolean
}

/** Reads the labels back; undefined for snapshots Coffer did not take. */
export function parseTags(tags: readonly string[] | undefined): ParsedTags | undefined {
  if (!tags?.includes(COFFER_TAG)) return undefined
  const env = tags.find((t) => t.startsWith('env='))
  if (!env) return undefined
  return {
    environment: env.slice(4),
    automated: tags.includes('automatic'),
    live: tags.includes('live'),
  }
}

/** The snapshot's `paths` entry: restic needs one; it names what was captured. */
export function snapshotPath(project: string, env: string): string {
  return `/${project}/${env}`
}
