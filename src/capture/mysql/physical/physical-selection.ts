import { InvalidInputError, RefusedError } from '../../../errors.js'
import type { TreeReader } from '../../ports.js'
import { parseDatabaseEntry, type DatabaseEntry } from '../database-entry.js'
import { fileNameOf } from '../names.js'
import {
  parsePhysicalDatabaseEntry,
  parsePhysicalServiceEntry,
  type PhysicalDatabaseEntry,
  type PhysicalServiceEntry,
} from './physical-entry.js'

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

export async function readText(
  tree: TreeReader,
  path: string,
  signal: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}
