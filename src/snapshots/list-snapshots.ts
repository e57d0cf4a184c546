import { RepoReader, shortId, type Repository, type StoredSnapshot } from '../repo/index.js'
import type { SnapshotInfo } from './api-types.js'
import { MANIFEST_PATH, parseManifest, type Manifest } from './manifest.js'
import { parseTags } from './snapshot-tags.js'

/** Coffer snapshots of one environment in a project's repository, oldest first. */
async function environmentSnapshots(
  repo: Repository,
  project: string,
  environment: string,
  signal?: AbortSignal,
): Promise<StoredSnapshot[]> {
  return (await repo.listSnapshots(signal)).filter(
    (s) => s.hostname === project && parseTags(s.tags)?.environment === environment,
  )
}

/** The newest snapshot of an environment: the parent of the next one. */
export async function latestEnvironmentSnapshot(
  repo: Repository,
  project: string,
  environment: string,
  signal?: AbortSignal,
): Promise<StoredSnapshot | undefined> {
  return (await environmentSnapshots(repo, project, environment, signal)).at(-1)
}

/**
 * The parents of an environment's next snapshot: the newest one (restic's parent, the mounts'
 * parent), and the newest consistent one, the databases' parent. A live snapshot records no
 * table fingerprints (nothing held the tables still while they were read), so a table
 * unchanged since can only be vouched for against a consistent one (docs/MYSQL.md, "Capture
 * after a parent"); a live snapshot in between must not make the next capture read every table.
 */
export async function parentSnapshots(
  repo: Repository,
  project: string,
  environment: string,
  signal?: AbortSignal,
): Promise<{
  readonly latest: StoredSnapshot | undefined
  readonly consistent: StoredSnapshot | undefined
}> {
  const snaps = await environmentSnapshots(repo, project, environment, signal)
  return {
    latest: snaps.at(-1),
    consistent: snaps.findLast((s) => parseTags(s.tags)?.live === false),
  }
}

/** Reads a snapshot's `/coffer.json`. */
export async function readManifest(
  reader: RepoReader,
  snap: StoredSnapshot,
  signal?: AbortSignal,
): Promise<Manifest> {
  const node = await reader.lookup(snap.tree, [Buffer.from(MANIFEST_PATH)], signal)
  if (!node || node.type !== 'file')
    throw new Error(`snapshot ${shortId(snap.id)} has no ${MANIFEST_PATH}`)
  const parts: Buffer[] = []
  for await (const b of reader.readContent(node.content ?? [], { ...(signal ? { signal } : {}) }))
    parts.push(b)
  return parseManifest(JSON.parse(Buffer.concat(parts).toString('utf8')))
}

export function snapshotInfo(snap: StoredSnapshot, manifest: Manifest): SnapshotInfo {
  return {
    id: shortId(snap.id),
    fullId: snap.id,
    project: manifest.project,
    environment: manifest.environment,
    environmentType: manifest.type,
    createdAt: new Date(Number(snap.time.unixNs / 1_000_000n)),
    live: manifest.mode === 'live',
    automated: manifest.automated,
    size: manifest.totals.bytes,
    ...(manifest.commit ? { commit: manifest.commit } : {}),
    ...(manifest.createdBy ? { createdBy: manifest.createdBy } : {}),
    ...(manifest.pauseMs !== undefined ? { pauseMs: manifest.pauseMs } : {}),
  }
}

/** An environment's snapshots, newest first, with their manifests' figures. */
export async function listEnvironmentSnapshots(
  repo: Repository,
  project: string,
  environment: string,
  signal?: AbortSignal,
): Promise<SnapshotInfo[]> {
  const snaps = await environmentSnapshots(repo, project, environment, signal)
  const reader = await RepoReader.open(repo, signal)
  const infos: SnapshotInfo[] = []
  for (const s of snaps.reverse())
    infos.push(snapshotInfo(s, await readManifest(reader, s, signal)))
  return infos
}
