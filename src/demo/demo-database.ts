import mysql from 'mysql2/promise'
import { DEMO_DB_PREFIX } from './demo-marker.js'

/** Where the demo looks for a local MariaDB/MySQL, in order (the first that answers wins). */
export const DEMO_MYSQL_CANDIDATES = [
  'mysql://root@localhost/?socket=/run/mysqld/mysqld.sock',
  'mysql://root@localhost/?socket=/var/run/mysqld/mysqld.sock',
  'mysql://root@127.0.0.1:3306/',
] as const

function connectOptions(url: URL): mysql.ConnectionOptions {
  const socket = url.searchParams.get('socket')
  return {
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    ...(socket ? { socketPath: socket } : { host: url.hostname, port: Number(url.port || 3306) }),
    connectTimeout: 2_000,
    multipleStatements: false,
  }
}

/** The first candidate server that accepts a connection, or undefined. */
export async function findMysql(candidates: readonly string[]): Promise<URL | undefined> {
  for (const c of candidates) {
    const url = new URL(c)
    try {
      const conn = await mysql.createConnection(connectOptions(url))
      await conn.end()
      return url
    } catch {
      // not this one
    }
  }
  return undefined
}

/** Whether `server` already has a database `name` (the demo never takes over one). */
export async function databaseExists(server: URL, name: string): Promise<boolean> {
  const conn = await mysql.createConnection(connectOptions(server))
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    )
    return rows.length > 0
  } finally {
    await conn.end()
  }
}

/** The environment's service URL for a demo database on `server`. */
export function databaseUrl(server: URL, database: string): string {
  const u = new URL(server)
  u.pathname = `/${database}`
  return u.toString()
}

const PRODUCTS: readonly [string, string, number][] = [
  ['MUG-BLUE', 'Blue mug', 12.5],
  ['TEE-RED', 'Red tee', 25],
  ['CAP-GRN', 'Green cap', 18],
  ['TOTE-YLW', 'Yellow tote', 15],
  ['POSTER-01', 'Poster', 9.9],
  ['STICKERS', 'Sticker pack', 4.5],
]

/**
 * Creates a small Magento-shaped shop database: stores, products with names and prices,
 * customers, orders and their items. InnoDB, so snapshots read it at one consistent point.
 */
export async function createShopDatabase(server: URL, database: string): Promise<void> {
  if (!database.startsWith(DEMO_DB_PREFIX) || !/^[a-z0-9_]+$/.test(database))
    throw new Error(`Demo databases are named ${DEMO_DB_PREFIX}…, not ${database}.`)
  const conn = await mysql.createConnection(connectOptions(server))
  try {
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`)
    await conn.query(`USE \`${database}\``)
    const ddl = [
      `CREATE TABLE store (store_id SMALLINT UNSIGNED PRIMARY KEY, code VARCHAR(32) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL) ENGINE=InnoDB`,
      `CREATE TABLE catalog_product_entity (entity_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, sku VARCHAR(64) NOT NULL UNIQUE, type_id VARCHAR(32) NOT NULL DEFAULT 'simple', created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB`,
      `CREATE TABLE catalog_product_entity_varchar (value_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, attribute_code VARCHAR(64) NOT NULL, store_id SMALLINT UNSIGNED NOT NULL, entity_id INT UNSIGNED NOT NULL, value VARCHAR(255), UNIQUE KEY (entity_id, attribute_code, store_id), FOREIGN KEY (entity_id) REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE) ENGINE=InnoDB`,
      `CREATE TABLE catalog_product_entity_decimal (value_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, attribute_code VARCHAR(64) NOT NULL, store_id SMALLINT UNSIGNED NOT NULL, entity_id INT UNSIGNED NOT NULL, value DECIMAL(20,6), UNIQUE KEY (entity_id, attribute_code, store_id), FOREIGN KEY (entity_id) REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE) ENGINE=InnoDB`,
      `CREATE TABLE customer_entity (entity_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, firstname VARCHAR(255), lastname VARCHAR(255), created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB`,
      `CREATE TABLE sales_order (entity_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, increment_id VARCHAR(32) NOT NULL UNIQUE, customer_id INT UNSIGNED, state VARCHAR(32) NOT NULL, grand_total DECIMAL(20,4) NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (customer_id) REFERENCES customer_entity (entity_id) ON DELETE SET NULL) ENGINE=InnoDB`,
      `CREATE TABLE sales_order_item (item_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, order_id INT UNSIGNED NOT NULL, sku VARCHAR(64) NOT NULL, qty_ordered DECIMAL(12,4) NOT NULL, price DECIMAL(20,4) NOT NULL, FOREIGN KEY (order_id) REFERENCES sales_order (entity_id) ON DELETE CASCADE) ENGINE=InnoDB`,
    ]
    for (const statement of ddl) await conn.query(statement)
    await conn.query(
      `INSERT INTO store VALUES (0, 'admin', 'Admin'), (1, 'default', 'Default Store View')`,
    )
    for (const [sku, name, price] of PRODUCTS) {
      const [r] = await conn.execute<mysql.ResultSetHeader>(
        'INSERT INTO catalog_product_entity (sku) VALUES (?)',
        [sku],
      )
      await conn.execute(
        `INSERT INTO catalog_product_entity_varchar (attribute_code, store_id, entity_id, value) VALUES ('name', 0, ?, ?)`,
        [r.insertId, name],
      )
      await conn.execute(
        `INSERT INTO catalog_product_entity_decimal (attribute_code, store_id, entity_id, value) VALUES ('price', 0, ?, ?)`,
        [r.insertId, price],
      )
    }
    const people = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra']
    for (const [i, person] of people.entries()) {
      const [first = person, last = ''] = person.split(' ')
      const email = `${first.toLowerCase()}@example.com`
      await conn.execute(
        'INSERT INTO customer_entity (email, firstname, lastname) VALUES (?, ?, ?)',
        [email, first, last],
      )
      for (let n = 0; n < 3; n++) {
        const [sku, , price] = PRODUCTS[(i + n) % PRODUCTS.length]!
        const qty = n + 1
        const [o] = await conn.execute<mysql.ResultSetHeader>(
          `INSERT INTO sales_order (increment_id, customer_id, state, grand_total) VALUES (?, ?, 'complete', ?)`,
          [`0000${i}${n}`, i + 1, price * qty],
        )
        await conn.execute(
          'INSERT INTO sales_order_item (order_id, sku, qty_ordered, price) VALUES (?, ?, ?, ?)',
          [o.insertId, sku, qty, price],
        )
      }
    }
  } finally {
    await conn.end()
  }
}

/** Drops a demo database (only ones named with the demo prefix). */
export async function dropDemoDatabase(server: URL, database: string): Promise<void> {
  if (!database.startsWith(DEMO_DB_PREFIX) || !/^[a-z0-9_]+$/.test(database)) return
  const conn = await mysql.createConnection(connectOptions(server))
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``)
  } finally {
    await conn.end()
  }
}
