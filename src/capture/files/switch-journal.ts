import { chmodSync, constants, lchownSync, lstatSync, renameSync, utimesSync } from 'node:fs'
import { lstat, open, readFile, rename, rm, utimes } from 'node:fs/promises'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { join } from 'node:path'
import { JsonFields, type ExtendedAttribute } from '../../repo/index.js'
import { utimeOf } from './entry-writer.js'
import { writeXattrs } from './xattr-tool.js'

/**
 * The file-by-file switch of a staged restore (docs/FILES.md): a list of renames and
 * metadata settings, written to the staging area before the first of them runs and marked
 * `committed`. Each step is idempotent, so a run killed half-way through the switch is
 * finished by the next run replaying the list from the start: the mount ends exactly as the
 * snapshot, never half-restored. Before `committed` exists, nothing in the mount was changed
 * and the staging area is simply removed.
 *
 * Paths are relative to the mount, raw bytes (base64 in the file); `from` and `to` name
 * entries of the staging area's `d/` (staged) and `t/` (trash) directories.
 */
export type SwitchOp =
  | { readonly op: 'trash'; readonly path: Buffer; readonly to: string }
  | { readonly op: 'put'; readonly from: string; readonly path: Buffer }
  | {
      readonly op: 'meta'
      readonly path: Buffer
      readonly perm: number
      readonly uid?: number
      readonly gid?: number
      readonly atimeNs: bigint
      readonly mtimeNs: bigint
      readonly attrs?: readonly ExtendedAttribute[]
    }

const PLAN = 'plan'
const COMMITTED = 'committed'
function encodeOp(o: SwitchOp): string {
  switch (o.op) {
    case 'trash':
      return JSON.stringify({ op: o.op, path: o.path.toString('base64'), to: o.to })
    case 'put':
      return JSON.stringify({ op: o.op, from: o.from, path: o.path.toString('base64') })
    case 'meta':
      return JSON.stringify({
        op: o.op,
        path: o.path.toString('base64'),
        perm: o.perm,
        ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}),
        atimeNs: String(o.atimeNs),
        mtimeNs: String(o.mtimeNs),
        ...(o.attrs?.length
          ? {
              attrs: o.attrs.map((a) => ({
                name: a.name,
                value: Buffer.from(a.value).toString('base64'),
              })),
            }
          : {}),
      })
    default:
      return o satisfies never
  }
}

function decodeOp(line: string): SwitchOp {
  const j = new JsonFields(JSON.parse(line), 'a switch step')
  const path = Buffer.from(j.string('path'), 'base64')
  const op = j.string('op')
  switch (op) {
    case 'trash':
      return { op, path, to: j.string('to') }
    case 'put':
      return { op, from: j.string('from'), path }
    case 'meta': {
      const uid = j.optInt('uid')
      const gid = j.optInt('gid')
      const attrs = j.optArray('attrs')?.map((a) => {
        const x = new JsonFields(a, 'a switch step: attrs')
        return { name: x.string('name'), value: Buffer.from(x.string('value'), 'base64') }
      })
      return {
        op,
        path,
        perm: j.int('perm'),
        ...(uid !== undefined && gid !== undefined ? { uid, gid } : {}),
        atimeNs: BigInt(j.string('atimeNs')),
        mtimeNs: BigInt(j.string('mtimeNs')),
        ...(attrs ? { attrs } : {}),
      }
    }
    default:
      throw new Error(`a switch step: op "${op}" is not known`)
  }
}

/** Writes the plan, flushed to disk, at the end of staging; nothing is decided by it. */
export async function writePlan(stage: string, ops: readonly SwitchOp[]): Promise<void> {
  await writeSynced(join(stage, PLAN), ops.map(encodeOp).join('\n') + '\n')
}

/**
 * Writes the `committed` marker beside a written plan: from here the switch is decided, and a
 * run killed before it ends is finished by the next. False when the stage has no plan.
 * Idempotent.
 */
export async function markCommitted(stage: string): Promise<boolean> {
  if (
    !(await lstat(join(stage, PLAN)).then(
      () => true,
      () => false,
    ))
  )
    return false
  await writeSynced(join(stage, `${COMMITTED}.tmp`), '')
  await rename(join(stage, `${COMMITTED}.tmp`), join(stage, COMMITTED))
  return true
}

async function writeSynced(p: string, text: string): Promise<void> {
  const fh = await open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600)
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export async function isCommitted(stage: string): Promise<boolean> {
  return lstat(join(stage, COMMITTED)).then(
    () => true,
    () => false,
  )
}

export async function readSwitch(stage: string): Promise<SwitchOp[]> {
  const text = await readFile(join(stage, PLAN), 'utf8')
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map(decodeOp)
}

/** Whether something is at `p` (an error, such as ENOTDIR on the way, counts as nothing). */
const exists = (p: Buffer | string): boolean => {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined
  } catch {
    return false
  }
}

/** Steps run between two yields to the event loop (a server goes on answering meanwhile). */
const STEPS_PER_YIELD = 256

/**
 * Runs (or re-runs) the switch: every step checks whether it is already done, so replaying
 * the whole list after a crash at any point ends in the same state. `onStep` is called after
 * each step (progress).
 *
 * The steps' calls are synchronous: microseconds each on a local file system, where a
 * promise per call waited on a round trip to libuv's thread pool, one after the other (a
 * delta restore of 150 files in 150 directories: about 1,000 calls, 0.1 s of waiting).
 */
export async function applySwitch(
  mount: string,
  stage: string,
  ops: readonly SwitchOp[],
  onStep?: (done: number, total: number) => void,
): Promise<void> {
  const m = Buffer.from(mount)
  const at = (rel: Buffer): Buffer =>
    rel.length === 0 ? m : Buffer.concat([m, Buffer.from('/'), rel])
  const data = join(stage, 'd')
  const trash = join(stage, 't')
  let done = 0
  for (const o of ops) {
    switch (o.op) {
      case 'trash': {
        const to = join(trash, o.to)
        // Already moved (a later step may have put the new entry in its place since).
        if (!exists(to) && exists(at(o.path))) renameSync(at(o.path), to)
        break
      }
      case 'put': {
        const from = join(data, o.from)
        if (exists(from)) renameSync(from, at(o.path))
        break
      }
      case 'meta':
        await applyMeta(at(o.path), o)
        break
      default:
        o satisfies never
    }
    onStep?.(++done, ops.length)
    if (done % STEPS_PER_YIELD === 0) await yieldToLoop()
  }
}

async function applyMeta(p: Buffer, o: Extract<SwitchOp, { op: 'meta' }>): Promise<void> {
  const st = lstatSync(p)
  // Only ever a directory the plan saw: never follow something that replaced it.
  if (!st.isDirectory()) return
  if (o.uid !== undefined && o.gid !== undefined) lchownSync(p, o.uid, o.gid)
  chmodSync(p, o.perm)
  if (o.attrs?.length) await writeXattrs([{ path: p, attrs: o.attrs }])
  utimesSync(p, utimeOf(o.atimeNs), utimeOf(o.mtimeNs))
}

/**
 * Removes the staging area (the trash with it) and sets the mount root's times again: removing
 * an entry of the root moves its mtime.
 */
export async function finishSwitch(
  mount: string,
  stage: string,
  ops: readonly SwitchOp[],
): Promise<void> {
  await rm(stage, { recursive: true, force: true })
  const root = ops.findLast((o) => o.op === 'meta' && o.path.length === 0)
  if (root?.op === 'meta') await utimes(mount, utimeOf(root.atimeNs), utimeOf(root.mtimeNs))
}

const ROOT_TIMES = 'root-times'

/**
 * Records the mount root's times when its staging area is created (creating and removing the
 * area inside the root moves the root's mtime), so that a restore rolled back still leaves
 * the root exactly as it was.
 */
export async function saveRootTimes(
  stage: string,
  atimeNs: bigint,
  mtimeNs: bigint,
): Promise<void> {
  await writeSynced(join(stage, ROOT_TIMES), `${atimeNs} ${mtimeNs}\n`)
}

/** Removes an uncommitted staging area and puts the mount root's times back. */
export async function discardStage(mount: string, stage: string): Promise<void> {
  const text = await readFile(join(stage, ROOT_TIMES), 'utf8').catch(() => undefined)
  await rm(stage, { recursive: true, force: true })
  const m = /^(-?\d+) (-?\d+)\n$/.exec(text ?? '')
  if (m) await utimes(mount, utimeOf(BigInt(m[1]!)), utimeOf(BigInt(m[2]!)))
}
