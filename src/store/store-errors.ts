/**
 * Whether a database error is a unique-constraint violation (SQLite `SQLITE_CONSTRAINT_*`
 * UNIQUE/PRIMARYKEY, PostgreSQL SQLSTATE 23505), optionally on a named constraint or index.
 * Raw driver errors enter as `unknown` and are inspected here only.
 */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  if (typeof e !== 'object' || e === null) return false
  const code = 'code' in e ? e.code : undefined
  const message = e instanceof Error ? e.message : ''
  if (code === '23505') {
    if (!constraint) return true
    return 'constraint' in e && e.constraint === constraint
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    if (!constraint) return true
    // SQLite names the columns, not the index ("UNIQUE constraint failed: t.a, t.b").
    const columns = SQLITE_INDEX_COLUMNS[constraint]
    return columns !== undefined && message.endsWith(`failed: ${columns}`)
  }
  return false
}

/** What SQLite's message names for each unique index the code branches on. */
const SQLITE_INDEX_COLUMNS: Record<string, string> = {
  activities_one_busy: 'activities.project_id, activities.environment',
  activities_pkey: 'activities.id',
}

/** Whether a database error is a foreign-key violation (the parent row is missing). */
export function isForeignKeyViolation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false
  const code = 'code' in e ? e.code : undefined
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
}
