import { Readable } from 'node:stream'
import type { QueryOptions } from 'mysql2'
import { CofferError } from '../../errors.js'
import { describeMysqlSource, type MysqlSource } from './mysql-source.js'
import type { RowFeedSource } from './row-encoders.js'
import { RowFeedCollector, type PacketWindow } from './row-feeds.js'
import { lentReadSocket, type ReadLender } from './lent-read-socket.js'
import { RowSocketReader } from './row-socket-reader.js'

/**
 * The few calls the driver makes on one server connection. Calls on one session run one at
 * a time, in order (a MySQL connection is a sequence of commands); use several sessions for
 * parallel work.
 */
export interface MysqlSession {
  /** The server's connection id (for `KILL`), as `CONNECTION_ID()` returns it. */
  readonly threadId: number
  /** Runs a statement; rows come decoded (strings, numbers), as arrays of columns. */
  query(sql: string, values?: readonly unknown[]): Promise<unknown[][]>
  /**
   * Streams the rows of a SELECT as their text-protocol packets (one length-coded string per
   * column, 0xFB for NULL, the column bytes as stored: `character_set_results = NULL`),
   * gathered into feeds of about a MiB (row-feeds.ts), with backpressure. The reader takes
   * every feed or calls `discard`. An abort of `signal` fails the next `next`.
   */
  stream(sql: string, signal: AbortSignal): RowFeedSource
  /** Runs `LOAD DATA LOCAL INFILE` with the file's bytes taken from `data`. */
  load(sql: string, data: AsyncIterable<Uint8Array>): Promise<number>
  /** Closes politely. */
  close(): Promise<void>
  /** Drops the connection at once (after a failure). */
  destroy(): void
}

/**
 * Opens a session with the settings every Coffer connection uses: utf8mb4 for statements,
 * results unconverted (`character_set_results = NULL`, so column bytes arrive as stored),
 * time zone UTC so that TIMESTAMP values are written and read back unchanged.
 */
/**
 * Starts loading the MySQL client module without waiting for it: a command that will connect
 * calls this first, so that the module's tenth of a second of loading overlaps the
 * repository's key derivation instead of following it.
 */
export function preloadMysqlClient(): void {
  import('mysql2').catch(() => undefined)
}

export async function openSession(source: MysqlSource): Promise<MysqlSession> {
  // Loaded on first use: every command that imports the capture drivers (a files-only
  // repo:backup or repo:restore) would otherwise spend a tenth of a second loading mysql2.
  const mysql = await import('mysql2')
  // Reads are lent to the row reader while it reads rows (lent-read-socket.ts).
  const lender: ReadLender = { lending: false }
  const target = source.socket ? { path: source.socket } : { host: source.host, port: source.port }
  const conn = mysql.createConnection({
    stream: () => lentReadSocket(target, lender),
    user: source.user,
    password: source.password,
    charset: 'utf8mb4_general_ci',
    rowsAsArray: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: false,
    flags: ['+LOCAL_FILES'],
  })
  // Errors after connect (server gone, KILL) also reject the pending command; this handler
  // only keeps an idle connection's error from crashing the process.
  conn.on('error', () => {})
  const run = (opts: QueryOptions): Promise<unknown> =>
    new Promise((resolve, reject) => conn.query(opts, (e, rows) => (e ? reject(e) : resolve(rows))))
  try {
    await new Promise<void>((resolve, reject) => conn.connect((e) => (e ? reject(e) : resolve())))
    await run({ sql: "SET time_zone = '+00:00', character_set_results = NULL" })
  } catch (e) {
    conn.destroy()
    throw new CofferError(
      'capture_failed',
      `Cannot connect to ${describeMysqlSource(source)}: ${serverMessage(e)}.`,
      { cause: e },
    )
  }
  return {
    threadId: conn.threadId ?? 0,
    async query(sql, values) {
      const rows = await run({ sql, ...(values ? { values: [...values] } : {}) })
      return Array.isArray(rows) ? (rows as unknown[][]) : []
    },
    stream(sql, signal) {
      const q = conn.query({ sql, typeCast: false, rowsAsArray: true })
      const feeds = new RowFeedCollector(
        () => conn.pause(),
        () => conn.resume(),
      )
      const socketReader = new RowSocketReader(conn, feeds, lender)
      pinRowParser(q, {
        next(packet: PacketWindow): undefined {
          feeds.add(packet)
          socketReader.rowsStarted()
        },
      })
      const onAbort = (): void => {
        feeds.fail(signal.reason)
        feeds.discard()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      q.on('error', (e: unknown) => feeds.fail(e))
      q.once('end', () => {
        socketReader.finished()
        signal.removeEventListener('abort', onAbort)
        feeds.end()
      })
      return feeds
    },
    async load(sql, data) {
      const res = (await run({
        sql,
        infileStreamFactory: () => Readable.from(data, { objectMode: false }),
      })) as { affectedRows?: number }
      return res.affectedRows ?? 0
    },
    close: () => new Promise((resolve) => conn.end(() => resolve())),
    destroy: () => conn.destroy(),
  }
}

/**
 * `count` sessions to `source`, connected side by side: each connection's handshake and
 * first statement are round trips and the server's work, a few milliseconds each, which a
 * capture or restore would otherwise wait for one after the other. When one fails, the
 * others are closed and the first failure is the error.
 */
export async function openSessions(source: MysqlSource, count: number): Promise<MysqlSession[]> {
  const opened = await Promise.allSettled(Array.from({ length: count }, () => openSession(source)))
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    for (const r of opened) if (r.status === 'fulfilled') r.value.destroy()
    throw failed.reason
  }
  return opened.map((r) => (r as PromiseFulfilledResult<MysqlSession>).value)
}

/**
 * Makes a query hand each row packet to `parser.next` instead of building a row of one
 * Buffer per field: millions of rows times their columns of small objects cost more than
 * reading the rows. mysql2 has no option for it; its query keeps the row parser in
 * `_rowParser` (mysql2 3.x), which this pins; the packet it passes is its parser's reused
 * window into the socket read (row-feeds.ts). test/capture/mysql/row-packets.test.ts fails
 * if a mysql2 upgrade changes this.
 */
function pinRowParser(q: object, parser: { next(packet: PacketWindow): undefined }): void {
  Object.defineProperty(q, '_rowParser', {
    get: () => parser,
    set: () => undefined,
    configurable: true,
  })
}

/** The server's message of a driver error, without the SQL text (it may hold values). */
export function serverMessage(e: unknown): string {
  if (e && typeof e === 'object') {
    const m = (e as { sqlMessage?: unknown; message?: unknown }).sqlMessage
    if (typeof m === 'string') return m
    const msg = (e as { message?: unknown }).message
    if (typeof msg === 'string') return msg
  }
  return String(e)
}

/** The MySQL error number of a driver error (e.g. 1227 access denied), if any. */
export function errorNumber(e: unknown): number | undefined {
  const n = e && typeof e === 'object' ? (e as { errno?: unknown }).errno : undefined
  return typeof n === 'number' ? n : undefined
}

/** A decoded column value as text ('' for NULL); what metadata queries return. */
export function cellText(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return ''
}
