/**
 * A small schema exercising the types and objects the driver must carry exactly. `{DB}` is
 * replaced by the test database's name.
 */
export const TYPES_FIXTURE = `
CREATE DATABASE {DB} CHARACTER SET latin1 COLLATE latin1_swedish_ci;
USE {DB};
SET SESSION sql_mode = '';
CREATE TABLE kinds (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  b BIT(10), bl BLOB, vb VARBINARY(40), d DECIMAL(30,10), f FLOAT, f2 FLOAT(7,2), dbl DOUBLE,
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(6), y YEAR,
  j JSON, g GEOMETRY, p POINT REF_SYSTEM_ID=4326, ls LINESTRING, e ENUM('a','b','c'), st SET('x','y','z'),
  u VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, l1 VARCHAR(40) CHARACTER SET latin1,
  txt TEXT, inv INT INVISIBLE DEFAULT 7,
  gen INT AS (id * 2) VIRTUAL, gens VARCHAR(50) AS (CONCAT(u, '!')) STORED,
  CHECK (d >= -1e20),
  KEY k_u (u), FULLTEXT KEY ft (txt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO kinds (id, b, bl, vb, d, f, f2, dbl, dt, dtm, ts, tm, y, j, g, p, ls, e, st, u, l1, txt, inv) VALUES
 (0, b'1010101011', x'00090a0d5c4e27ff', x'5c4e', 12345678901234567890.0123456789, 3.4028234e38, 12345.67,
  2.2250738585072014e-308, '0000-00-00', '0000-00-00 00:00:00.000000', '2038-01-19 03:14:07.999',
  '-838:59:59.000000', 1901, '{"a": [1, 2.5, "x\\\\ty"], "b": null}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 0))'), ST_GeomFromText('POINT(1.5 2.25)', 4326),
  ST_GeomFromText('LINESTRING(0 0,1 1,2 3)'), 'b', 'x,z', 'emoji 😀 and tab\\there', x'ff80e9',
  'line1\\nline2\\r\\n\\\\N', 1),
 (2, b'0', '', '', -0.0000000001, 1.17549435e-38, -0.01, 1.7976931348623157e308, '2024-02-29',
  '1000-01-01 00:00:00.000001', NULL, '838:59:59.999999', 2155, '[]', NULL, NULL, NULL, '', '',
  '', '', '', DEFAULT),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, 'N', 'NULL', '\\\\N', NULL),
 (4, b'1', x'', x'0000', 0, 0.1, 0, 0.30000000000000004, '2000-01-01', '2000-01-01 00:00:00',
  '1970-01-01 00:00:01', '00:00:00', 0, '{}', ST_GeomFromText('MULTIPOINT(1 1,2 2)'), NULL, NULL,
  'c', 'x,y,z', '\\t', 'caf\\xe9', '', -1);
CREATE TABLE nopk (a INT, b VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (NULL, NULL), (2, '');
CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (10, 1), (11, 2), (12, NULL);
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB;
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2)) ENGINE=InnoDB;
CREATE TABLE legacy (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=MyISAM;
INSERT INTO legacy VALUES (1, 'old');
CREATE TABLE \`odd name-with.dots/and\`\`tick\` (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO \`odd name-with.dots/and\`\`tick\` VALUES (1), (2);
SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
CREATE DEFINER = 'root'@'127.0.0.1' TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW
  INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id));
INSERT INTO orders (total) VALUES (9.99), (20.00), (0.01);
CREATE SEQUENCE seq_invoice START WITH 100 INCREMENT BY 5;
SELECT NEXTVAL(seq_invoice), NEXTVAL(seq_invoice);
CREATE VIEW v_base AS SELECT id, total FROM orders WHERE total > 1;
CREATE VIEW v_top AS SELECT id FROM v_base WHERE total > 10;
CREATE VIEW a_first AS SELECT COUNT(*) AS n FROM v_top;
SET SESSION sql_mode = 'ANSI_QUOTES';
CREATE DEFINER = 'root'@'127.0.0.1' FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
SET SESSION sql_mode = DEFAULT;
CREATE PROCEDURE count_orders(OUT n INT) SQL SECURITY INVOKER SELECT COUNT(*) INTO n FROM orders;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM audit WHERE id < 0;
`
