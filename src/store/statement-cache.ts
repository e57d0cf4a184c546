import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** The part of better-sqlite3's database the cache uses (Kysely's port, plus `busy`). */
export interface PreparingDatabase {
  close(): void
  prepare(sql: string): SqliteStatement & { readonly busy: boolean }
}

/**
 * Distinct statements kept. The API's queries have a few dozen shapes; `in (?, ?, …)` lists
 * make more, so the least recently used ones go past this.
 */
const DEFAULT_MAX_STATEMENTS = 500

/**
 * Kysely's SQLite driver prepares every query anew, and preparing costs as much as running
 * a small query again (parsing and planning; `select *` of a wide table most): a tenth to half a
 * millisecond of the server's one thread per API request. This keeps prepared statements
 * by SQL text and hands them out again, which better-sqlite3 allows once a statement has
 * finished running; one still being iterated (`busy`, a streamed query) is not handed out,
 * a fresh one is prepared instead. SQLite re-prepares a cached statement by itself after a
 * schema change (sqlite3_prepare_v2). Not for concurrent threads: one per connection, as the
 * connection itself.
 */
export function cachingStatements(
  db: PreparingDatabase,
  maxStatements = DEFAULT_MAX_STATEMENTS,
): SqliteDatabase {
  const cache = new Map<string, SqliteStatement & { readonly busy: boolean }>()
  return {
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql)
      if (cached && !cached.busy) {
        // Map keeps insertion order: re-inserting makes it the most recently used.
        cache.delete(sql)
        cache.set(sql, cached)
        return cached
      }
      const stmt = db.prepare(sql)
      if (!cached) {
        cache.set(sql, stmt)
        if (cache.size > maxStatements) cache.delete(cache.keys().next().value!)
      }
      return stmt
    },
    close(): void {
      cache.clear()
      db.close()
    },
  }
}
