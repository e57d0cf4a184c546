import mysql from 'mysql2/promise'

/** A connection to the benches' server, `mysql://user[:password]@host[:port]` (no database). */
export function connectServer(server: URL): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
    charset: 'utf8mb4_general_ci',
  })
}
