/**
 * Seeds the demo (and test) schema in MariaDB and PostgreSQL: a few named tables with
 * dependencies, generated tables of varied types and sizes, and one large table.
 * Rows are generated server-side (MariaDB's seq_1_to_N, PostgreSQL's generate_series).
 *   node dist/demo/seed.js [--database bqsync_demo] [--tables 124] [--big-rows 1000000]
 */
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { parseArgs } from 'node:util';

const SEED_VERSION = 3;
const SIZES = [0, 1, 10, 100, 250, 1000, 2000, 5000];

export interface SeedOptions {
  database: string;
  /** Total tables per source, the named ones included. */
  tables: number;
  bigRows: number;
  mysqlUrl: string;
  postgresUrl: string;
  force?: boolean;
}

type Family = 'ledger' | 'catalog' | 'events';
const FAMILIES: Family[] = ['ledger', 'catalog', 'events'];

/** Generated table number i: its name, family and row count. */
export function generatedTables(count: number): { name: string; family: Family; rows: number }[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${FAMILIES[i % 3]}_${String(i + 1).padStart(3, '0')}`,
    family: FAMILIES[i % 3],
    rows: SIZES[i % SIZES.length],
  }));
}

const NAMED = ['customers', 'orders', 'order_items', 'events_big'];

const mysqlDdl: Record<Family, string> = {
  ledger: `(id BIGINT UNSIGNED PRIMARY KEY, account_no INT NOT NULL, amount DECIMAL(18,4), big_amount DECIMAL(40,10),
    memo VARCHAR(200), booked_on DATE, booked_at DATETIME(6), updated_at TIMESTAMP(6) NULL, is_reversal TINYINT(1),
    attrs JSON, checksum VARBINARY(32))`,
  catalog: `(id INT PRIMARY KEY, sku CHAR(12), title VARCHAR(255), price DECIMAL(10,2), weight DOUBLE,
    status ENUM('draft','live','retired'), tags SET('new','sale','eco'), created DATETIME, year_made YEAR, notes TEXT)`,
  events: `(id BIGINT PRIMARY KEY, user_id BIGINT, kind VARCHAR(32), occurred_at TIMESTAMP(3) NULL, payload JSON,
    score FLOAT, flags BIT(8), small SMALLINT, tiny TINYINT UNSIGNED)`,
};

const mysqlRows: Record<Family, string> = {
  ledger: `seq, seq % 1000, ROUND(seq * 1.2345, 4), CONCAT(seq, '.0123456789'), CONCAT('memo ', seq, ' é ✓ 🚀'),
    DATE('2024-01-01') + INTERVAL (seq % 700) DAY,
    TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
    TIMESTAMP('2024-06-01 12:00:00') + INTERVAL seq MINUTE + INTERVAL (seq % 999999) MICROSECOND,
    seq % 3, JSON_OBJECT('n', seq, 'tag', CONCAT('t', seq % 7)), UNHEX(MD5(seq))`,
  catalog: `seq, CONCAT('SKU-', LPAD(seq, 8, '0')), CONCAT('Product ', seq, ' – ünïcödé'), ROUND(seq * 0.99, 2),
    seq / 7, ELT(1 + seq % 3, 'draft', 'live', 'retired'), ELT(1 + seq % 3, 'new', 'new,sale', 'eco'),
    TIMESTAMP('2023-03-01 08:00:00') + INTERVAL seq HOUR, 1990 + seq % 30, IF(seq % 5 = 0, NULL, REPEAT('x', seq % 50))`,
  events: `seq, seq * 17 % 10007, ELT(1 + seq % 4, 'click', 'view', 'buy', 'leave'),
    TIMESTAMP('2025-01-01 00:00:00') + INTERVAL seq SECOND + INTERVAL (seq % 1000) * 1000 MICROSECOND,
    JSON_ARRAY(seq, 'e'), seq / 3, seq % 256, seq % 30000, seq % 256`,
};

const pgDdl: Record<Family, string> = {
  ledger: `(id bigint PRIMARY KEY, account_no integer NOT NULL, amount numeric(18,4), big_amount numeric(40,10),
    memo varchar(200), booked_on date, booked_at timestamp(6), updated_at timestamptz(6), is_reversal boolean,
    attrs jsonb, checksum bytea)`,
  catalog: `(id integer PRIMARY KEY, sku char(12), title text, price numeric(10,2), weight double precision,
    status text, tags text[], created timestamp, ref uuid, notes text)`,
  events: `(id bigint PRIMARY KEY, user_id bigint, kind varchar(32), occurred_at timestamptz(3), payload json,
    score real, small smallint, ratio numeric)`,
};

const pgRows: Record<Family, string> = {
  ledger: `s, s % 1000, round(s * 1.2345, 4), (s || '.0123456789')::numeric, 'memo ' || s || ' é ✓ 🚀',
    date '2024-01-01' + (s % 700), timestamp '2024-01-01' + s * interval '1 second' + (s % 1000000) * interval '1 microsecond',
    timestamptz '2024-06-01 12:00:00+00' + s * interval '1 minute' + (s % 999999) * interval '1 microsecond',
    s % 2 = 0, jsonb_build_object('n', s, 'tag', 't' || (s % 7)), decode(md5(s::text), 'hex')`,
  catalog: `s, 'SKU-' || lpad(s::text, 8, '0'), 'Product ' || s || ' – ünïcödé', round(s * 0.99, 2), s / 7.0,
    (ARRAY['draft','live','retired'])[1 + s % 3], ARRAY['new', 't' || s % 3], timestamp '2023-03-01 08:00' + s * interval '1 hour',
    md5(s::text)::uuid, CASE WHEN s % 5 = 0 THEN NULL ELSE repeat('x', s % 50) END`,
  events: `s, s * 17 % 10007, (ARRAY['click','view','buy','leave'])[1 + s % 4],
    timestamptz '2025-01-01 00:00:00+00' + s * interval '1 second' + (s % 1000) * interval '1 millisecond',
    json_build_array(s, 'e'), s / 3.0, s % 30000, s / 7.0`,
};

async function seedMysql(o: SeedOptions): Promise<void> {
  const conn = await mysql.createConnection({ uri: o.mysqlUrl, multipleStatements: false });
  try {
    const db = '`' + o.database.replace(/`/g, '``') + '`';
    if (!o.force && (await mysqlSeeded(conn, o))) return;
    await conn.query(`DROP DATABASE IF EXISTS ${db}`);
    await conn.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE ${db}`);
    await conn.query("SET time_zone = '+00:00'");
    await conn.query(`CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100), email VARCHAR(200), country CHAR(2), created_at DATETIME(6))`);
    await conn.query(`INSERT INTO customers SELECT seq, CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'),
      ELT(1 + seq % 4, 'JP', 'US', 'DE', 'FR'), TIMESTAMP('2022-01-01') + INTERVAL seq HOUR FROM seq_1_to_2000`);
    await conn.query(`CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT, total DECIMAL(12,2), status VARCHAR(16), ordered_at DATETIME)`);
    await conn.query(`INSERT INTO orders SELECT seq, 1 + seq % 2000, ROUND(10 + seq % 500 * 1.37, 2),
      ELT(1 + seq % 3, 'paid', 'shipped', 'refunded'), TIMESTAMP('2025-01-01') + INTERVAL (seq * 7) MINUTE FROM seq_1_to_20000`);
    await conn.query(`CREATE TABLE order_items (order_id BIGINT, line_no INT, sku CHAR(12), quantity INT, unit_price DECIMAL(10,2), PRIMARY KEY (order_id, line_no))`);
    await conn.query(`INSERT INTO order_items SELECT 1 + seq DIV 3, seq % 3, CONCAT('SKU-', LPAD(seq % 900, 8, '0')), 1 + seq % 4, ROUND(1 + seq % 90 * 0.5, 2) FROM seq_0_to_59999`);
    await conn.query(`CREATE TABLE events_big (id BIGINT PRIMARY KEY, user_id INT, kind VARCHAR(16), occurred_at TIMESTAMP(6) NULL, amount DECIMAL(12,2), note VARCHAR(64))`);
    if (o.bigRows > 0) {
      await conn.query(`INSERT INTO events_big SELECT seq, seq % 50000, ELT(1 + seq % 4, 'click', 'view', 'buy', 'leave'),
        TIMESTAMP('2025-01-01') + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND, ROUND(seq % 10000 * 0.01, 2),
        CONCAT('event number ', seq) FROM seq_1_to_${Math.floor(o.bigRows)}`);
    }
    for (const t of generatedTables(o.tables - NAMED.length)) {
      await conn.query(`CREATE TABLE ${t.name} ${mysqlDdl[t.family]}`);
      if (t.rows > 0) await conn.query(`INSERT INTO ${t.name} SELECT ${mysqlRows[t.family]} FROM seq_1_to_${t.rows}`);
    }
    await conn.query(`CREATE TABLE _seed_info (version INT, big_rows INT, tables INT)`);
    await conn.query(`INSERT INTO _seed_info VALUES (?, ?, ?)`, [SEED_VERSION, o.bigRows, o.tables]);
  } finally {
    await conn.end();
  }
}

async function mysqlSeeded(conn: mysql.Connection, o: SeedOptions): Promise<boolean> {
  try {
    const [rows] = await conn.query(`SELECT version, big_rows, tables FROM \`${o.database}\`._seed_info`);
    const r = (rows as { version: number; big_rows: number; tables: number }[])[0];
    return r?.version === SEED_VERSION && r.big_rows === o.bigRows && r.tables === o.tables;
  } catch {
    return false;
  }
}

async function seedPostgres(o: SeedOptions): Promise<void> {
  const admin = new Client({ connectionString: o.postgresUrl.replace(/\/[^/?]*(\?|$)/, '/postgres$1') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${o.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  const pg = new Client({ connectionString: o.postgresUrl.replace(/\/[^/?]*(\?|$)/, `/${o.database}$1`) });
  await pg.connect();
  try {
    if (!o.force) {
      const done = await pg
        .query('SELECT version, big_rows, tables FROM public._seed_info')
        .then((r) => r.rows[0])
        .catch(() => undefined);
      if (done?.version === SEED_VERSION && done.big_rows === o.bigRows && done.tables === o.tables) return;
    }
    await pg.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
    await pg.query(`CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id int, amount numeric(12,2), currency char(3), issued_at timestamptz)`);
    await pg.query(`INSERT INTO invoices SELECT s, 1 + s % 2000, round(5 + s % 700 * 1.11, 2), (ARRAY['JPY','USD','EUR'])[1 + s % 3],
      timestamptz '2025-01-01 00:00+00' + s * interval '13 minutes' FROM generate_series(1, 15000) s`);
    await pg.query(`CREATE TABLE payments (id bigint PRIMARY KEY, invoice_id bigint, paid numeric(12,2), method text, paid_at timestamptz)`);
    await pg.query(`INSERT INTO payments SELECT s, s, round(5 + s % 700 * 1.11, 2), (ARRAY['card','bank','cash'])[1 + s % 3],
      timestamptz '2025-01-02 00:00+00' + s * interval '13 minutes' FROM generate_series(1, 12000) s`);
    await pg.query(`CREATE TABLE accounts (id int PRIMARY KEY, name text, active boolean, opened date)`);
    await pg.query(`INSERT INTO accounts SELECT s, 'Account ' || s, s % 9 <> 0, date '2020-01-01' + s FROM generate_series(1, 3000) s`);
    await pg.query(`CREATE TABLE events_big (id bigint PRIMARY KEY, user_id int, kind varchar(16), occurred_at timestamptz(6), amount numeric(12,2), note text)`);
    if (o.bigRows > 0) {
      await pg.query(`INSERT INTO events_big SELECT s, s % 50000, (ARRAY['click','view','buy','leave'])[1 + s % 4],
        timestamptz '2025-01-01 00:00+00' + s * interval '1 second' + (s % 1000000) * interval '1 microsecond',
        round(s % 10000 * 0.01, 2), 'event number ' || s FROM generate_series(1, $1::int) s`, [Math.floor(o.bigRows)]);
    }
    for (const t of generatedTables(o.tables - NAMED.length)) {
      await pg.query(`CREATE TABLE ${t.name} ${pgDdl[t.family]}`);
      if (t.rows > 0) await pg.query(`INSERT INTO ${t.name} SELECT ${pgRows[t.family]} FROM generate_series(1, ${t.rows}) s`);
    }
    await pg.query('CREATE TABLE _seed_info (version int, big_rows int, tables int)');
    await pg.query('INSERT INTO _seed_info VALUES ($1, $2, $3)', [SEED_VERSION, o.bigRows, o.tables]);
    await pg.query('ANALYZE');
  } finally {
    await pg.end();
  }
}

export async function seed(o: SeedOptions): Promise<void> {
  await Promise.all([seedMysql(o), seedPostgres(o)]);
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_demo' },
      tables: { type: 'string', default: '124' },
      'big-rows': { type: 'string', default: '1000000' },
      force: { type: 'boolean', default: false },
    },
  });
  const options: SeedOptions = {
    database: values.database!,
    tables: Number(values.tables),
    bigRows: Number(values['big-rows']),
    mysqlUrl: process.env.SEED_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/',
    postgresUrl: process.env.SEED_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    force: values.force,
  };
  const began = Date.now();
  seed(options).then(
    () => console.log(`[bqsync] demo schema ${options.database} ready in MariaDB and PostgreSQL (${options.tables} tables each, ${((Date.now() - began) / 1000).toFixed(1)}s)`),
    (err) => {
      console.error(`[bqsync] seeding failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
