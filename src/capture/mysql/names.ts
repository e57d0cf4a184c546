import { createHash } from 'node:crypto'

/** A MySQL identifier in backquotes, inner backquotes doubled (manual, "Identifier Names"). */
export function quoteIdent(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`'
}

/** `db`.`table` */
export function qualified(db: string, table: string): string {
  return `${quoteIdent(db)}.${quoteIdent(table)}`
}

/** A string literal for SQL text (only for names and fixed values, never user data). */
export function quoteString(s: string): string {
  return "'" + s.replaceAll('\\', '\\\\').replaceAll("'", "''") + "'"
}

/**
 * The file name that stands for an identifier in the snapshot tree (docs/FORMAT.md,
 * "MySQL service"): ASCII letters, digits and `_` stay, every other byte of the UTF-8 form
 * becomes `%XX` (upper-case hex). Reversible, and never contains `.`, `/` or `-`, so the
 * suffixes Coffer adds (`.sql`, `.0001.tsv`) and its own files cannot collide with it.
 */
export function fileNameOf(identifier: string): string {
  let out = ''
  for (const byte of Buffer.from(identifier, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9_]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** The identifier a `fileNameOf` name stands for. */
export function identifierOf(fileName: string): string {
  return decodeURIComponent(fileName)
}

/**
 * The staging, trash and journal databases of a restore into `target` (docs/MYSQL.md,
 * "Restore"): `<target>__coffer_stage_<id>`, `<target>__coffer_trash_<id>` and
 * `<target>__coffer_jrnl_<id>`. Names are limited to 64
 * characters, so a long target name is cut and followed by a hash of the whole name.
 */
export function sideDatabases(
  target: string,
  id: string,
): { stage: string; trash: string; journal: string } {
  const prefix = sidePrefix(target)
  return {
    stage: `${prefix}__coffer_stage_${id}`,
    trash: `${prefix}__coffer_trash_${id}`,
    journal: `${prefix}__coffer_jrnl_${id}`,
  }
}

/** The LIKE pattern matching every staging or trash database of `target`. */
export function sideDatabasePattern(target: string): string {
  return sidePrefixPattern(sidePrefix(target))
}

/** The LIKE pattern of the side databases whose names start with `prefix` (cut, hashed). */
export function sidePrefixPattern(prefix: string): string {
  const like = prefix.replace(/[\\%_]/g, (c) => '\\' + c)
  return `${like}\\_\\_coffer\\_%`
}

const SIDE_SUFFIX = '__coffer_stage_'.length + 8

function sidePrefix(target: string): string {
  if (target.length + SIDE_SUFFIX <= 64) return target
  const hash = createHash('sha256').update(target).digest('hex').slice(0, 8)
  return `${target.slice(0, 64 - SIDE_SUFFIX - 9)}_${hash}`
}
