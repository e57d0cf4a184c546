import { randomBytes } from 'node:crypto'
import type { TreeReader } from '../../../src/capture/index.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import {
  capturePhysical,
  type PhysicalCaptureResult,
} from '../../../src/capture/mysql/physical/index.js'
import { SnapshotWriter, type Repository, type StoredSnapshot } from '../../../src/repo/index.js'
import { driverContext, MYSQL_URL } from '../mysql/mysql-harness.js'

/** A database name of this suite's own (`ct_ph_<label>_<random>`), per the shared server's rules. */
export const physicalDbName = (label: string): string =>
  `ct_ph_${label}_${randomBytes(3).toString('hex')}`

/**
 * Captures database `db` physically (staging in `stagingParent`) into a new snapshot of
 * `repo`; returns it with the capture result.
 */
export async function snapshotPhysical(
  repo: Repository,
  db: string,
  stagingParent: string,
  parent?: TreeReader,
): Promise<{ snap: StoredSnapshot; captured: PhysicalCaptureResult }> {
  const writer = await SnapshotWriter.start(repo)
  try {
    const captured = await capturePhysical(
      parseMysqlUrl(`${MYSQL_URL}/${db}`),
      writer,
      driverContext(),
      { stagingParent, ...(parent ? { parent } : {}) },
    )
    const snap = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
    return { snap, captured }
  } catch (e) {
    await writer.abort()
    throw e
  }
}

/** A file of a snapshot tree as text. */
export async function treeText(tree: TreeReader, path: string): Promise<string> {
  let out = ''
  for await (const c of tree.readFile(path)) out += Buffer.from(c).toString('utf8')
  return out
}

/** The tree with the JSON file at `path` edited, as a snapshot whose entry was written so. */
export function withEditedJson(
  tree: TreeReader,
  path: string,
  edit: (entry: Record<string, unknown>) => unknown,
): TreeReader {
  return {
    list: (dir, opts) => tree.list(dir, opts),
    async *readFile(p, opts) {
      if (p !== path) {
        yield* tree.readFile(p, opts)
        return
      }
      const entry = JSON.parse(await treeText(tree, path)) as Record<string, unknown>
      yield Buffer.from(JSON.stringify(edit(entry)))
    },
  }
}
