/**
 * The shop-shaped database of ../shared/bench/README.md ("Shop database"), generated inside
 * MariaDB with `INSERT … SELECT … FROM seq_1_to_N` (the Sequence engine): no rows cross the
 * client connection, so generation runs at the server's insert speed. Deterministic: every
 * value derives from the row number, so two generations at one scale hold the same data.
 */

/** The one call the generator makes on a connection (a `mysql2/promise` connection fits). */
export interface ShopSession {
  query(sql: string): Promise<[unknown, unknown]>
}

/** Rows per table at scale 1 (README: about 6.0 M rows in all). */
export const SHOP_ROWS = {
  catalog_product_entity: 200_000,
  catalog_product_entity_varchar: 2_000_000,
  catalog_product_entity_decimal: 1_000_000,
  catalog_product_entity_text: 200_000,
  customer_entity: 200_000,
  sales_order: 400_000,
  sales_order_item: 1_200_000,
  url_rewrite: 600_000,
  media_gallery: 200_000,
} as const

/** Changes to the generator change the data: bump this so cached databases are regenerated. */
const GENERATOR_VERSION = 1

/** `bench_shop_<scale>`, e.g. `bench_shop_0_05`. */
export function shopDatabaseName(scale: number): string {
  return `bench_shop_${String(scale).replace(/[^0-9]/g, '_')}`
}

/**
 * Creates database `db` with the shop data at `scale`, unless it already holds exactly that
 * (a `bench_meta` row records scale and generator version). Returns the seconds spent, 0 when
 * reused, and the total row count.
 */
export async function ensureShopDatabase(
  session: ShopSession,
  db: string,
  scale: number,
): Promise<{ seconds: number; rows: number }> {
  const n = (table: keyof typeof SHOP_ROWS): number =>
    Math.max(1, Math.round(SHOP_ROWS[table] * scale))
  const rows = Object.keys(SHOP_ROWS).reduce((sum, t) => sum + n(t as keyof typeof SHOP_ROWS), 0)
  const marker = `${scale}/${GENERATOR_VERSION}`
  try {
    const [found] = await session.query(`SELECT marker FROM \`${db}\`.bench_meta`)
    if (Array.isArray(found) && (found[0] as { marker?: unknown } | undefined)?.marker === marker)
      return { seconds: 0, rows }
  } catch {
    // no such database or table: generate
  }
  const started = performance.now()
  await session.query(`DROP DATABASE IF EXISTS \`${db}\``)
  await session.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`)
  await session.query(`USE \`${db}\``)
  await session.query('SET SESSION unique_checks = 0, foreign_key_checks = 0')
  const products = n('catalog_product_entity')
  const orders = n('sales_order')
  const customers = n('customer_entity')
  for (const sql of schema()) await session.query(sql)
  // Rows per product (10 varchar, 5 decimal attributes) and per order (3 items) follow the
  // README; at small scales the per-table counts are the same multiples.
  const statements = [
    `INSERT INTO catalog_product_entity (entity_id, sku, type_id, attribute_set_id, created_at, updated_at)
     SELECT seq, CONCAT('SKU-', LPAD(seq, 8, '0')), ELT(1 + seq % 3, 'simple', 'configurable', 'virtual'),
            4 + seq % 7, TIMESTAMP('2020-01-01') + INTERVAL seq MINUTE,
            TIMESTAMP('2023-01-01') + INTERVAL seq SECOND
     FROM seq_1_to_${products}`,
    `INSERT INTO catalog_product_entity_varchar (attribute_id, store_id, entity_id, value)
     SELECT 70 + a.seq, 0, p.seq, CONCAT(ELT(a.seq, 'name', 'url_key', 'meta_title', 'color', 'size',
            'material', 'brand', 'gtin', 'image', 'thumbnail'), ' ', p.seq, ' ', LEFT(MD5(p.seq * 10 + a.seq), 12))
     FROM seq_1_to_${products} p JOIN seq_1_to_10 a`,
    `INSERT INTO catalog_product_entity_decimal (attribute_id, store_id, entity_id, value)
     SELECT 80 + a.seq, 0, p.seq, ((p.seq * 7919 + a.seq * 104729) % 10000000) / 1000
     FROM seq_1_to_${products} p JOIN seq_1_to_5 a`,
    `INSERT INTO catalog_product_entity_text (attribute_id, store_id, entity_id, value)
     SELECT 75, 0, seq, CONCAT('<div class="description"><h2>Product ', seq, '</h2><p>',
            REPEAT(CONCAT(SHA2(seq, 256), ' lorem ipsum dolor sit amet '), 5), '</p><ul><li>',
            MD5(seq), '</li></ul></div>')
     FROM seq_1_to_${products}`,
    `INSERT INTO customer_entity (entity_id, email, firstname, lastname, dob, created_at)
     SELECT seq, CONCAT('customer', seq, '@example.com'),
            ELT(1 + seq % 8, 'Jörg', 'Zoë', 'Łukasz', '李', 'Anna', 'Søren', 'Ana', 'José'),
            CONCAT(ELT(1 + seq % 6, 'Müller', 'Nowak', '王', 'García', 'Smith', 'Ørsted'), seq % 1000),
            DATE('1950-01-01') + INTERVAL (seq * 37) % 20000 DAY,
            TIMESTAMP('2019-01-01') + INTERVAL seq MINUTE
     FROM seq_1_to_${customers}`,
    `INSERT INTO sales_order (entity_id, increment_id, customer_id, status, currency, grand_total,
            created_at, updated_at, payment)
     SELECT seq, LPAD(seq, 10, '0'), 1 + seq % ${customers},
            ELT(1 + seq % 4, 'pending', 'processing', 'complete', 'canceled'),
            ELT(1 + seq % 3, 'EUR', 'USD', 'PLN'), (seq * 7919 % 100000) / 100,
            TIMESTAMP('2021-01-01') + INTERVAL seq * 3 MINUTE,
            TIMESTAMP('2021-01-01') + INTERVAL seq * 3 + 60 MINUTE,
            JSON_OBJECT('method', ELT(1 + seq % 3, 'card', 'paypal', 'invoice'),
                        'last4', LPAD(seq % 10000, 4, '0'), 'captured', seq % 5 <> 0)
     FROM seq_1_to_${orders}`,
    `INSERT INTO sales_order_item (order_id, product_id, sku, qty, price, row_total)
     SELECT o.seq, 1 + (o.seq * 3 + i.seq) % ${products},
            CONCAT('SKU-', LPAD(1 + (o.seq * 3 + i.seq) % ${products}, 8, '0')), i.seq,
            (o.seq * i.seq % 10000) / 100, i.seq * (o.seq * i.seq % 10000) / 100
     FROM seq_1_to_${orders} o JOIN seq_1_to_3 i`,
    `INSERT INTO url_rewrite (entity_type, entity_id, request_path, target_path, store_id)
     SELECT ELT(1 + seq % 3, 'product', 'category', 'cms-page'), seq,
            CONCAT('shop/', ELT(1 + seq % 5, 'women', 'men', 'kids', 'home', 'sale'), '/item-', seq, '.html'),
            CONCAT('catalog/product/view/id/', seq, '/category/', seq % 500), 1 + seq % 2
     FROM seq_1_to_${n('url_rewrite')}`,
    `INSERT INTO media_gallery (entity_id, value, thumbnail)
     SELECT 1 + seq % ${products}, CONCAT('/', LEFT(MD5(seq), 1), '/', SUBSTR(MD5(seq), 2, 1), '/img', seq, '.jpg'),
            CONCAT(UNHEX(SHA2(seq, 512)), UNHEX(SHA2(seq + 1, 512)), UNHEX(SHA2(seq + 2, 512)),
                   UNHEX(SHA2(seq + 3, 512)))
     FROM seq_1_to_${n('media_gallery')}`,
    `CREATE TABLE bench_meta (marker VARCHAR(40) NOT NULL)`,
    `INSERT INTO bench_meta VALUES ('${marker}')`,
  ]
  for (const sql of statements) await session.query(sql)
  await session.query('SET SESSION unique_checks = 1, foreign_key_checks = 1')
  return { seconds: (performance.now() - started) / 1000, rows }
}

/**
 * Changes `fraction` of the rows of sales_order_item (the "1 % changed" step): a deterministic
 * slice selected by item_id and `round`, qty and row_total raised by `round`. `undo` reverses
 * exactly that change, so a cached database returns to its generated content.
 */
export async function changeShopRows(
  session: ShopSession,
  db: string,
  fraction: number,
  round: number,
  undo = false,
): Promise<number> {
  const every = Math.max(1, Math.round(1 / fraction))
  const op = undo ? '-' : '+'
  const [result] = await session.query(
    `UPDATE \`${db}\`.sales_order_item
     SET qty = qty ${op} ${round}, row_total = row_total ${op} ${round}
     WHERE item_id % ${every} = ${round % every}`,
  )
  return (result as { affectedRows?: number }).affectedRows ?? 0
}

function schema(): string[] {
  return [
    `CREATE TABLE catalog_product_entity (
       entity_id INT UNSIGNED NOT NULL,
       sku VARCHAR(64) NOT NULL,
       type_id VARCHAR(32) NOT NULL DEFAULT 'simple',
       attribute_set_id SMALLINT UNSIGNED NOT NULL DEFAULT 0,
       created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
       updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
       PRIMARY KEY (entity_id),
       UNIQUE KEY uq_sku (sku)
     ) ENGINE=InnoDB`,
    `CREATE TABLE catalog_product_entity_varchar (
       value_id INT NOT NULL AUTO_INCREMENT,
       attribute_id SMALLINT UNSIGNED NOT NULL,
       store_id SMALLINT UNSIGNED NOT NULL DEFAULT 0,
       entity_id INT UNSIGNED NOT NULL,
       value VARCHAR(255) NULL,
       PRIMARY KEY (value_id),
       UNIQUE KEY uq_entity_attribute_store (entity_id, attribute_id, store_id),
       CONSTRAINT fk_varchar_entity FOREIGN KEY (entity_id)
         REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE
     ) ENGINE=InnoDB`,
    `CREATE TABLE catalog_product_entity_decimal (
       value_id INT NOT NULL AUTO_INCREMENT,
       attribute_id SMALLINT UNSIGNED NOT NULL,
       store_id SMALLINT UNSIGNED NOT NULL DEFAULT 0,
       entity_id INT UNSIGNED NOT NULL,
       value DECIMAL(20,6) NULL,
       PRIMARY KEY (value_id),
       UNIQUE KEY uq_entity_attribute_store (entity_id, attribute_id, store_id),
       CONSTRAINT fk_decimal_entity FOREIGN KEY (entity_id)
         REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE
     ) ENGINE=InnoDB`,
    `CREATE TABLE catalog_product_entity_text (
       value_id INT NOT NULL AUTO_INCREMENT,
       attribute_id SMALLINT UNSIGNED NOT NULL,
       store_id SMALLINT UNSIGNED NOT NULL DEFAULT 0,
       entity_id INT UNSIGNED NOT NULL,
       value MEDIUMTEXT NULL,
       PRIMARY KEY (value_id),
       UNIQUE KEY uq_entity_attribute_store (entity_id, attribute_id, store_id)
     ) ENGINE=InnoDB`,
    `CREATE TABLE customer_entity (
       entity_id INT UNSIGNED NOT NULL,
       email VARCHAR(255) NOT NULL,
       firstname VARCHAR(255) NOT NULL,
       lastname VARCHAR(255) NOT NULL,
       dob DATE NULL,
       created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
       PRIMARY KEY (entity_id),
       UNIQUE KEY uq_email (email),
       KEY k_firstname (firstname),
       KEY k_lastname (lastname)
     ) ENGINE=InnoDB`,
    `CREATE TABLE sales_order (
       entity_id INT UNSIGNED NOT NULL,
       increment_id VARCHAR(32) NOT NULL,
       customer_id INT UNSIGNED NULL,
       status VARCHAR(32) NOT NULL,
       currency CHAR(3) NOT NULL,
       grand_total DECIMAL(20,4) NOT NULL,
       created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
       updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
       payment JSON NULL,
       PRIMARY KEY (entity_id),
       UNIQUE KEY uq_increment (increment_id),
       KEY k_customer (customer_id),
       KEY k_status (status),
       KEY k_created (created_at)
     ) ENGINE=InnoDB`,
    `CREATE TABLE sales_order_item (
       item_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
       order_id INT UNSIGNED NOT NULL,
       product_id INT UNSIGNED NULL,
       sku VARCHAR(64) NOT NULL,
       qty DECIMAL(12,4) NOT NULL,
       price DECIMAL(20,4) NOT NULL,
       row_total DECIMAL(20,4) NOT NULL,
       PRIMARY KEY (item_id),
       KEY k_order (order_id),
       KEY k_product (product_id)
     ) ENGINE=InnoDB`,
    `CREATE TABLE url_rewrite (
       url_rewrite_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
       entity_type VARCHAR(32) NOT NULL,
       entity_id INT UNSIGNED NOT NULL,
       request_path VARCHAR(255) NOT NULL,
       target_path VARCHAR(255) NOT NULL,
       store_id SMALLINT UNSIGNED NOT NULL,
       PRIMARY KEY (url_rewrite_id),
       UNIQUE KEY uq_request_store (request_path, store_id),
       KEY k_target_type (target_path, entity_type)
     ) ENGINE=InnoDB`,
    `CREATE TABLE media_gallery (
       value_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
       entity_id INT UNSIGNED NOT NULL,
       value VARCHAR(255) NOT NULL,
       thumbnail BLOB NOT NULL,
       PRIMARY KEY (value_id),
       KEY k_entity (entity_id)
     ) ENGINE=InnoDB`,
    `CREATE VIEW sales_order_daily AS
       SELECT DATE(created_at) AS day, currency, COUNT(*) AS orders, SUM(grand_total) AS revenue
       FROM sales_order GROUP BY DATE(created_at), currency`,
    `CREATE TRIGGER sales_order_touch BEFORE UPDATE ON sales_order FOR EACH ROW
       SET NEW.updated_at = GREATEST(NEW.updated_at, OLD.updated_at + INTERVAL 1 SECOND)`,
    `CREATE PROCEDURE order_count(IN who INT UNSIGNED, OUT n INT)
       READS SQL DATA
       SELECT COUNT(*) INTO n FROM sales_order WHERE customer_id = who`,
  ]
}
