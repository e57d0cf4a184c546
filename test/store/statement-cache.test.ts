import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { cachingStatements, type PreparingDatabase } from '../../src/store/statement-cache.js'

interface Db {
  items: { id: number; name: string }
}

/** A real in-memory SQLite that counts what it is asked to prepare. */
function countingDatabase(): {
  db: PreparingDatabase
  prepared: string[]
  raw: BetterSqlite3.Database
} {
  const raw = new BetterSqlite3(':memory:')
  raw.exec('create table items (id integer primary key, name text not null)')
  const prepared: string[] = []
  return {
    raw,
    prepared,
    db: {
      prepare: (sql) => {
        prepared.push(sql)
        return raw.prepare(sql)
      },
      close: () => raw.close(),
    },
  }
}

describe('cachingStatements', () => {
  let raw: BetterSqlite3.Database | undefined
  afterEach(() => {
    if (raw?.open) raw.close()
  })

  it('prepares a query once and runs it again with other values', async () => {
    const c = countingDatabase()
    raw = c.raw
    const k = new Kysely<Db>({ dialect: new SqliteDialect({ database: cachingStatements(c.db) }) })
    for (const [id, name] of [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ] as const)
      await k.insertInto('items').values({ id, name }).execute()
    const names: string[] = []
    for (const id of [3, 1, 2])
      names.push(
        (await k.selectFrom('items').select('name').where('id', '=', id).executeTakeFirstOrThrow())
          .name,
      )
    expect(names).toEqual(['three', 'one', 'two'])
    const inserts = c.prepared.filter((s) => s.startsWith('insert'))
    const selects = c.prepared.filter((s) => s.startsWith('select'))
    expect(inserts).toHaveLength(1)
    expect(selects).toHaveLength(1)
    await k.destroy()
    expect(c.raw.open).toBe(false)
  })

  it('prepares a fresh statement while the cached one is still being iterated', async () => {
    const c = countingDatabase()
    raw = c.raw
    c.raw.exec("insert into items values (1, 'one'), (2, 'two')")
    const cache = cachingStatements(c.db)
    const sql = 'select name from items order by id'
    const streaming = cache.prepare(sql).iterate([])
    expect(streaming.next().value).toEqual({ name: 'one' })
    // The first statement is busy: running the same SQL meanwhile needs another one.
    expect(cache.prepare(sql).all([])).toEqual([{ name: 'one' }, { name: 'two' }])
    expect(streaming.next().value).toEqual({ name: 'two' })
    expect(streaming.next().done).toBe(true)
    expect(c.prepared).toEqual([sql, sql])
    // Finished: the cached statement serves again.
    expect(cache.prepare(sql).all([])).toHaveLength(2)
    expect(c.prepared).toHaveLength(2)
  })

  it('keeps at most the given number of statements, dropping the least recently used', () => {
    const c = countingDatabase()
    raw = c.raw
    const cache = cachingStatements(c.db, 2)
    const q = (n: number): string => `select ${n} as n`
    cache.prepare(q(1))
    cache.prepare(q(2))
    cache.prepare(q(1)) // 1 is now the most recently used
    cache.prepare(q(3)) // drops 2
    cache.prepare(q(1))
    cache.prepare(q(2)) // prepared again
    expect(c.prepared).toEqual([q(1), q(2), q(3), q(2)])
  })

  it('does not cache what fails to prepare', () => {
    const c = countingDatabase()
    raw = c.raw
    const cache = cachingStatements(c.db)
    expect(() => cache.prepare('select name from nowhere')).toThrow(/no such table/)
    expect(() => cache.prepare('select name from nowhere')).toThrow(/no such table/)
    expect(c.prepared).toHaveLength(2)
  })
})
