import { Readable } from 'node:stream'
import type { QueryOptions } from 'mysql2'
import { CofferError } from '../../errors.js'
import { describeMysqlSource, type MysqlSource } from './mysql-source.js'

/**
 * A row as the server sends it in the text protocol: the payload of its packet, one
 * length-coded string per column (0xFB for NULL), the column bytes as stored
 * (`character_set_results = NULL`). `encodeRows` reads it without an object per field.
 */
export type RowPacket = Buffer

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
   * Streams the rows of a SELECT as raw bytes, with backpressure, in batches of the rows
   * that have arrived (one await per batch, not per row: millions of rows go through here).
   */
  stream(sql: string, signal: AbortSignal): AsyncIterable<readonly RowPacket[]>
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
export async function openSession(source: MysqlSource): Promise<MysqlSession> {
  // Loaded on first use: every command that imports the capture drivers (a files-only
  // repo:backup or repo:restore) would otherwise spend a tenth of a second loading mysql2.
  const mysql = await import('mysql2')
  const conn = mysql.createConnection({
    ...(source.socket ? { socketPath: source.socket } : { host: source.host, port: source.port }),
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
      rawRows(q)
      const s = q.stream({ highWaterMark: 1024 })
      const onAbort = (): void => {
        s.destroy(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      s.once('close', () => signal.removeEventListener('abort', onAbort))
      return rowBatches(s)
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

/** What mysql2 calls to turn a row packet into a row (its `_rowParser`). */
const ROW_PACKET_PARSER = {
  next(packet: { buffer: Buffer; offset: number; end: number }): RowPacket {
    return packet.buffer.subarray(packet.offset, packet.end)
  },
}

/**
 * Makes a streaming query yield each row's packet payload instead of an array of one
 * Buffer per field: millions of rows times their columns of small objects cost more than
 * reading the rows. mysql2 has no option for it; its query keeps the row parser in
 * `_rowParser` (mysql2 3.x), which this pins. The packet's buffer is the socket read it
 * came in, never reused, as mysql2's own field Buffers are slices of it too.
 * test/capture/mysql/row-packets.test.ts fails if a mysql2 upgrade changes this.
 */
function rawRows(q: object): void {
  Object.defineProperty(q, '_rowParser', {
    get: () => ROW_PACKET_PARSER,
    set: () => undefined,
    configurable: true,
  })
}

const MAX_BATCH = 1024

/** The rows of an object-mode stream, in batches of those buffered when read. */
async function* rowBatches(s: Readable): AsyncGenerator<readonly RowPacket[]> {
  try {
    for (;;) {
      const batch: RowPacket[] = []
      let row: RowPacket | null
      while (batch.length < MAX_BATCH && (row = s.read() as RowPacket | null) !== null)
        batch.push(row)
      if (batch.length > 0) {
        // Once per batch, not per row: all rows of a query come from the same parser.
        if (!Buffer.isBuffer(batch[0]))
          throw new Error('mysql2 returned a row that is not a packet')
        yield batch
        continue
      }
      if (s.errored) throw s.errored
      if (s.readableEnded || s.destroyed) return
      await nextEvent(s)
    }
  } finally {
    // A consumer that stops early (break, throw) must not leave the query running.
    if (!s.readableEnded) s.destroy()
  }
}

/** Resolves when `s` may have rows again, has ended or was closed; rejects on its error. */
function nextEvent(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      off()
      resolve()
    }
    const fail = (e: Error): void => {
      off()
      reject(e)
    }
    const off = (): void => {
      s.off('readable', done)
      s.off('end', done)
      s.off('close', done)
      s.off('error', fail)
    }
    s.on('readable', done)
    s.on('end', done)
    s.on('close', done)
    s.on('error', fail)
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
