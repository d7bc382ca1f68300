import mysql from 'mysql2';
import type { Connection } from 'mysql2';
import { isLostConnection, SourceConnectionLost } from '../connection-lost';
import { RowBatches } from '../row-batches';
import { EXTRACT_QUERY_TAG, filterClause, RowFilter, SourceReader } from '../driver';
import { ColumnMapping, mapMysqlColumn, SourceColumn } from '../../bigquery/types';
import { RawValue } from '../../bigquery/row-encoder';

/** MySQL/MariaDB identifiers are quoted with backticks, an inner backtick doubled. */
export function quoteMysql(identifier: string): string {
  if (identifier.includes('\u0000')) throw new Error(`identifier ${JSON.stringify(identifier)} contains a NUL character`);
  return '`' + identifier.replace(/`/g, '``') + '`';
}

export class MysqlSource implements SourceReader {
  /** The extraction in progress, which a lost connection must end (mysql2 tells only the connection). */
  private reading?: { table: string; out: RowBatches };

  private constructor(
    private readonly conn: Connection,
    private readonly database: string,
  ) {
    // Without a listener, a connection the server ends (KILL, restart) would crash the worker.
    conn.on('error', (err: Error) => {
      const reading = this.reading;
      if (reading && !reading.out.destroyed) reading.out.destroy(new SourceConnectionLost(reading.table, err.message));
    });
  }

  static async connect(url: string, database?: string): Promise<MysqlSource> {
    const conn = mysql.createConnection({
      uri: url,
      // Every value as the server's text: no JS number, no Date, no zone conversion.
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      charset: 'utf8mb4',
      connectTimeout: 20_000,
    });
    await conn.promise().connect();
    // TIMESTAMP values come out in UTC whatever the server's zone.
    await conn.promise().query("SET time_zone = '+00:00'");
    const [rows] = await conn.promise().query('SELECT DATABASE() AS db');
    const db = database ?? (rows as { db: string | null }[])[0].db;
    if (!db) {
      conn.destroy();
      throw new Error('the MySQL URL names no database and the source sets no schema:; add one of them');
    }
    return new MysqlSource(conn, db);
  }

  async listTables(): Promise<string[]> {
    const [rows] = await this.conn
      .promise()
      .query(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [this.database],
      );
    return (rows as { name: string }[]).map((r) => r.name);
  }

  async describeTable(table: string): Promise<SourceColumn[]> {
    const [rows] = await this.conn.promise().query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
              NUMERIC_PRECISION AS numPrecision,
              NUMERIC_SCALE AS numScale, IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
        ORDER BY ORDINAL_POSITION`,
      [this.database, table],
    );
    const jsonColumns = await this.jsonCheckedColumns(table);
    return (rows as Record<string, string | null>[]).map((r) => ({
      name: String(r.name),
      dataType: String(r.dataType).toLowerCase(),
      columnType: String(r.columnType),
      precision: r.numPrecision == null ? null : Number(r.numPrecision),
      scale: r.numScale == null ? null : Number(r.numScale),
      unsigned: /unsigned/i.test(String(r.columnType)),
      nullable: r.nullable === 'YES',
      isJson: jsonColumns.has(String(r.name)),
      comment: r.comment ?? undefined,
    }));
  }

  /** MariaDB stores JSON as LONGTEXT with a json_valid(`col`) check constraint. */
  private async jsonCheckedColumns(table: string): Promise<Set<string>> {
    try {
      const [rows] = await this.conn
        .promise()
        .query(
          'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
          [this.database, table],
        );
      const names = new Set<string>();
      for (const { clause } of rows as { clause: string }[]) {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause.trim());
        if (m) names.add(m[1].replace(/``/g, '`'));
      }
      return names;
    } catch {
      return new Set(); // MySQL 8 has a real JSON type and may lack TABLE_NAME here
    }
  }

  async primaryKey(table: string): Promise<string[]> {
    const [rows] = await this.conn.promise().query(
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
      [this.database, table],
    );
    return (rows as { name: string }[]).map((r) => r.name);
  }

  async estimateRows(table: string): Promise<number> {
    const [rows] = await this.conn
      .promise()
      .query('SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.database, table]);
    return Number((rows as { n: string | null }[])[0]?.n ?? 0);
  }

  async keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined> {
    const c = quoteMysql(column);
    const [rows] = await this.conn
      .promise()
      .query(`SELECT MIN(${c}) AS lo, MAX(${c}) AS hi FROM ${quoteMysql(this.database)}.${quoteMysql(table)}`);
    const r = (rows as { lo: string | null; hi: string | null }[])[0];
    return r?.lo == null || r.hi == null ? undefined : { min: String(r.lo), max: String(r.hi) };
  }

  async tableComment(table: string): Promise<string | undefined> {
    const [rows] = await this.conn
      .promise()
      .query('SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.database, table]);
    return (rows as { c: string | null }[])[0]?.c || undefined;
  }

  mapColumn(column: SourceColumn) {
    return mapMysqlColumn(column, quoteMysql);
  }

  streamRows(table: string, columns: ColumnMapping[], from?: RowFilter): RowBatches {
    const binary = new Set(columns.filter((c) => c.encoding === 'bytes-buffer').map((c) => c.bigQueryName));
    const select = columns
      .map((c) => `${c.selectExpression ?? quoteMysql(c.source.name)} AS ${quoteMysql(c.bigQueryName)}`)
      .join(', ');
    const { where, params } = filterClause(from, quoteMysql, () => '?');
    const sql = `SELECT ${EXTRACT_QUERY_TAG} ${select} FROM ${quoteMysql(this.database)}.${quoteMysql(table)}${where}`;
    const out = new RowBatches(() => this.conn.resume());
    this.reading = { table, out };
    // A consistent snapshot so the count we verify is the count of one moment.
    this.conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', (err) => {
      if (err) return out.destroy(err);
      const query = this.conn.query({
        sql,
        values: params,
        rowsAsArray: true,
        typeCast: (field) => (binary.has(field.name) ? field.buffer() : field.string()),
      });
      query.on('result', (row: unknown) => {
        if (!out.add(row as RawValue[])) this.conn.pause();
      });
      query.on('error', (e: Error) => out.destroy(isLostConnection(e) ? new SourceConnectionLost(table, e.message) : e));
      query.on('end', () => {
        this.conn.query('COMMIT', () => out.finish());
      });
    });
    return out;
  }

  async close(): Promise<void> {
    this.conn.destroy();
  }
}
