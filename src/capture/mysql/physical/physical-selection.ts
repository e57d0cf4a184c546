import { access, constants, stat, statfs } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { InvalidInputError, RefusedError } from '../../../errors.js'
import type { TreeReader } from '../../ports.js'
import { parseDatabaseEntry, type DatabaseEntry } from '../database-entry.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import { fileNameOf } from '../names.js'
import {
  parsePhysicalDatabaseEntry,
  parsePhysicalServiceEntry,
  type PhysicalDatabaseEntry,
  type PhysicalServiceEntry,
} from './physical-entry.js'
import { releaseSeries, serverFlavor, type ServerFacts } from './server-facts.js'

/** A database of a physical snapshot, read before anything is changed. */
export interface SelectedDatabase {
  readonly logical: DatabaseEntry
  readonly physical: PhysicalDatabaseEntry
  readonly creates: ReadonlyMap<string, string>
  readonly dir: string
  /** The database it is restored into (`databaseMap`, else its own name). */
  readonly target: string
}

/** What a physical restore reads from the snapshot before it touches a server. */
export interface PhysicalSelection {
  readonly service: PhysicalServiceEntry
  readonly databases: readonly SelectedDatabase[]
}

/**
 * Reads `physical.json` and the selected databases' entries and definitions. `include` takes
 * database names (snapshot names); a `db/table` entry is refused, since a physical restore
 * switches whole databases. Rejects with InvalidInputError for names the snapshot does not
 * have or two databases mapped onto one, before any change.
 */
export async function selectPhysical(
  tree: TreeReader,
  opts: {
    readonly service?: string
    readonly databaseMap?: Readonly<Record<string, string>>
    readonly include?: readonly string[]
  },
  signal: AbortSignal,
): Promise<PhysicalSelection> {
  const name = opts.service ?? 'mysql'
  const base = `services/${name}`
  const service = parsePhysicalServiceEntry(
    `${base}/physical.json`,
    await readText(tree, `${base}/physical.json`, signal),
  )
  const include = opts.include ?? []
  const table = include.find((i) => i.includes('/'))
  if (table !== undefined)
    throw new RefusedError(
      'refused',
      `The service ${name} in this snapshot was captured physically: a single table (${table.replace('/', '.')}) cannot be restored from it, only whole databases. Nothing was changed.`,
    )
  for (const db of include)
    if (!service.databases.includes(db))
      throw new InvalidInputError('include', `The snapshot has no database ${db} in ${base}.`)
  for (const db of Object.keys(opts.databaseMap ?? {}))
    if (!service.databases.includes(db))
      throw new InvalidInputError('database-map', `The snapshot has no database ${db}.`)
  const names = service.databases.filter((d) => include.length === 0 || include.includes(d))
  const targets = names.map((d) => opts.databaseMap?.[d] ?? d)
  const twice = targets.find((t, i) => targets.indexOf(t) !== i)
  if (twice !== undefined)
    throw new InvalidInputError(
      'database-map',
      `Two databases of the snapshot would be restored into ${twice}.`,
    )
  const databases: SelectedDatabase[] = []
  for (const [i, db] of names.entries())
    databases.push(await readDatabase(tree, base, db, targets[i]!, signal))
  return { service, databases }
}

async function readDatabase(
  tree: TreeReader,
  base: string,
  db: string,
  target: string,
  signal: AbortSignal,
): Promise<SelectedDatabase> {
  const dir = `${base}/${fileNameOf(db)}`
  const logical = parseDatabaseEntry(
    `${dir}/database.json`,
    await readText(tree, `${dir}/database.json`, signal),
  )
  const physical = parsePhysicalDatabaseEntry(
    `${dir}/physical/tables.json`,
    await readText(tree, `${dir}/physical/tables.json`, signal),
  )
  const creates = new Map<string, string>()
  for (const t of [...logical.tables, ...physical.tables])
    creates.set(t.name, (await readText(tree, `${dir}/${t.file}.sql`, signal)).replace(/;\n$/, ''))
  return { logical, physical, creates, dir, target }
}

/** Every reason not to start, checked before the first change (issue: "refuses clearly"). */
export async function refuseUnfit(
  { service, databases }: PhysicalSelection,
  facts: ServerFacts,
  target: MysqlSource,
): Promise<void> {
  const where = describeMysqlSource(target)
  if (
    serverFlavor(service.serverVersion) !== serverFlavor(facts.version) ||
    releaseSeries(service.serverVersion) !== releaseSeries(facts.version)
  )
    throw new RefusedError(
      'refused',
      `The physical snapshot was taken on ${service.serverVersion} and ${where} runs ${facts.version}: tablespaces import only within one release series. Restore logically from a logical snapshot, or into a ${releaseSeries(service.serverVersion)} server.`,
    )
  if (service.innodbPageSize !== facts.innodbPageSize)
    throw new RefusedError(
      'refused',
      `The physical snapshot has InnoDB pages of ${service.innodbPageSize} bytes and ${where} uses ${facts.innodbPageSize}: its tablespaces cannot be imported.`,
    )
  if (!isAbsolute(facts.datadir))
    throw new RefusedError('refused', `The data directory of ${where} is not an absolute path.`)
  try {
    await access(facts.datadir, constants.W_OK)
    if (!(await stat(facts.datadir)).isDirectory()) throw new Error('not a directory')
  } catch (e) {
    throw new RefusedError(
      'refused',
      `The data directory ${facts.datadir} of ${where} is not writable from this host: a physical restore must run where the server keeps its files.`,
      { cause: e },
    )
  }
  const need = databases.reduce(
    (n, s) =>
      n +
      s.physical.tables.reduce((m, t) => m + t.ibd.size + t.cfg.size, 0) +
      s.logical.tables.reduce((m, t) => m + t.bytes, 0),
    0,
  )
  const fs = await statfs(facts.datadir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  // The staged files plus a tenth: the logical tables' indexes and the server's own growth.
  if (free < need * 1.1)
    throw new RefusedError(
      'no_space',
      `The data directory ${facts.datadir} has ${free} bytes free; the restore needs about ${Math.ceil(need * 1.1)}.`,
    )
}

export async function readText(
  tree: TreeReader,
  path: string,
  signal: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}
