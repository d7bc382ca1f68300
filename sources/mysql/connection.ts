import mysql from 'mysql2';
import type { Connection, Query } from 'mysql2';
import { SourceConnectionLost } from '../connection-lost';
import { CursorStats, EXTRACT_QUERY_TAG, filterClause, KeyValue, RowFilter, SourceConnection, SourceFinding } from '../driver';
import type { RawValue, SourceColumn } from '../logical-types';
import { RowBatches } from '../row-batches';
import { RowTextBlocks } from '../row-text';
import { effectiveTls, EffectiveTls, isLocalHost, TlsSettings } from '../tls';
import { tlsFromUrl } from '../tls-url';
import { isLostMysqlConnection, quoteMysql } from './errors';
import { lostRead } from './lost-read';
import { MysqlFlavour, mysqlServer } from './server-flavour';
import { mysqlHealth } from './health';
import { checkServerIdentityOnUpgrade, MYSQL_URL_TLS, mysqlSsl } from './tls';
import * as sql from './sql';
import { mysqlLogicalType } from './types';
import { decodeRowsWith, hookMissed, takeRowBytesWith } from './row-parser-hook';
import { canRangeOver, keyOrderQuery, keysetClause } from './keyset';
import type { CheckedKey, ComparedColumn, ContentSide } from '../../common/content-checksum';
import { sourceContentSide } from '../content-side';
import { CHECKSUM_SESSION, mysqlChecksumDialect, mysqlChecksumExpression } from './checksum-sql';

/** A session on one MySQL/MariaDB database. */
export class MysqlConnection implements SourceConnection {
  /** The extraction in progress, which a lost connection must end (mysql2 tells only the connection). */
  private reading?: { table: string; out: RowBatches | RowTextBlocks; lost(err: Error): SourceConnectionLost };
  /** Content verification: keep the next read's snapshot open (holdSnapshot), and whether one is open. */
  private holdNext = false;
  private inSnapshot = false;

  private constructor(
    private readonly conn: Connection,
    readonly schema: string,
    readonly flavour: MysqlFlavour,
    private readonly tls: EffectiveTls,
  ) {
    // Without a listener, a connection the server ends (KILL, restart) would crash the worker.
    conn.on('error', (err: Error) => {
      const reading = this.reading;
      if (reading && !reading.out.destroyed) reading.out.destroy(reading.lost(err));
    });
  }

  static async open(url: string, database: string | undefined, connectTimeoutMs: number, tlsConfig?: TlsSettings): Promise<MysqlConnection> {
    const { url: uri, settings, host } = tlsFromUrl(url, MYSQL_URL_TLS);
    // mysql2 connects to localhost when the URL names no host.
    const tls = effectiveTls(settings, tlsConfig, isLocalHost(host));
    const conn = mysql.createConnection({
      uri,
      ssl: mysqlSsl(tls),
      // Every value as the server's text: no JS number, no Date, no zone conversion.
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      charset: 'utf8mb4',
      connectTimeout: connectTimeoutMs,
    });
    checkServerIdentityOnUpgrade(conn, tls, host);
    await conn.promise().connect();
    const [rows] = await conn.promise().query(sql.SERVER_AND_DATABASE);
    const found = (rows as { version: string; db: string | null }[])[0];
    const server = mysqlServer(found.version);
    // Per connection, not per server: a managed server's defaults would cut a long read.
    await conn.promise().query(sql.sessionSetup(server));
    const db = database ?? found.db;
    if (!db) {
      conn.destroy();
      throw new Error('the MySQL URL names no database and the source sets no schema:; add one of them');
    }
    return new MysqlConnection(conn, db, server.flavour, tls);
  }

  private async rows<T>(query: string, params: unknown[] = []): Promise<T[]> {
    const [rows] = await this.conn.promise().query(query, params);
    return rows as T[];
  }

  async listTables(): Promise<string[]> {
    return (await this.rows<{ name: string }>(sql.LIST_TABLES, [this.schema])).map((r) => r.name);
  }

  async describeTable(table: string): Promise<SourceColumn[]> {
    const rows = await this.rows<Record<string, string | null>>(sql.DESCRIBE_COLUMNS, [this.schema, table]);
    const jsonColumns = await this.jsonCheckedColumns(table);
    return rows.map((r) => {
      const name = String(r.name);
      const info = {
        name,
        dataType: String(r.dataType).toLowerCase(),
        columnType: String(r.columnType),
        precision: r.numPrecision == null ? null : Number(r.numPrecision),
        scale: r.numScale == null ? null : Number(r.numScale),
        isJson: jsonColumns.has(name),
      };
      const { type } = mysqlLogicalType(info);
      const checksumExpression = mysqlChecksumExpression(info.dataType, quoteMysql(name));
      return {
        name,
        columnType: info.columnType,
        type,
        nullable: r.nullable === 'YES',
        comment: r.comment ?? undefined,
        ...(checksumExpression !== undefined && { checksumExpression }),
      };
    });
  }

  private async jsonCheckedColumns(table: string): Promise<Set<string>> {
    if (this.flavour === 'mysql') return new Set(); // MySQL has a JSON type, and its view lacks TABLE_NAME
    try {
      const names = new Set<string>();
      for (const { clause } of await this.rows<{ clause: string }>(sql.CHECK_CONSTRAINTS, [this.schema, table])) {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause.trim());
        if (m) names.add(m[1].replace(/``/g, '`'));
      }
      return names;
    } catch {
      return new Set(); // a MariaDB before 10.2 has no CHECK_CONSTRAINTS
    }
  }

  async primaryKey(table: string): Promise<string[]> {
    return (await this.rows<{ name: string }>(sql.PRIMARY_KEY, [this.schema, table])).map((r) => r.name);
  }

  async estimateRows(tables: string[]): Promise<Map<string, number>> {
    if (tables.length === 0) return new Map();
    const rows = await this.rows<{ name: string; n: string | number | null }>(sql.ESTIMATE_ROWS, [this.schema, tables]);
    return new Map(rows.filter((r) => r.n !== null).map((r) => [r.name, Number(r.n)]));
  }

  async keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined> {
    const c = quoteMysql(column);
    const [r] = await this.rows<{ lo: string | null; hi: string | null }>(`SELECT MIN(${c}) AS lo, MAX(${c}) AS hi FROM ${this.qualified(table)}`);
    return r?.lo == null || r.hi == null ? undefined : { min: String(r.lo), max: String(r.hi) };
  }

  /** One pass over the key in its order (its index), keeping every `every`-th tuple. */
  async keyBoundaries(table: string, key: SourceColumn[], every: number, most: number): Promise<KeyValue[][] | undefined> {
    if (!canRangeOver(key)) return undefined;
    const bytes = key.map((c) => c.type.kind === 'bytes');
    const bounds: KeyValue[][] = [];
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const rows = this.conn.query({
        sql: keyOrderQuery(this.qualified(table), key),
        rowsAsArray: true,
        // The server's own text (or bytes), exactly what a bound compares with.
        typeCast: (field, next) => {
          const i = key.findIndex((c) => c.name === field.name);
          if (i < 0) return next();
          return bytes[i] ? field.buffer() : field.string();
        },
      });
      rows.on('result', (row: unknown) => {
        if (seen > 0 && seen % every === 0 && bounds.length < most) bounds.push(row as KeyValue[]);
        seen++;
      });
      rows.on('error', reject);
      rows.on('end', () => resolve());
    });
    return bounds;
  }

  async tableComment(table: string): Promise<string | undefined> {
    return (await this.rows<{ c: string | null }>(sql.TABLE_COMMENT, [this.schema, table]))[0]?.c || undefined;
  }

  /** MySQL has no privilege function: each table gets a zero-row SELECT (LIMIT 0 reads nothing). */
  async tablesWithoutSelect(tables: string[]): Promise<string[]> {
    const denied: string[] = [];
    for (const table of tables) {
      try {
        await this.rows(`SELECT 1 FROM ${this.qualified(table)} LIMIT 0`);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR') denied.push(table);
        else throw err;
      }
    }
    return denied;
  }

  streamRows(table: string, columns: SourceColumn[], filter?: RowFilter): RowBatches {
    const bytesColumns = columns.map((c) => c.type.kind === 'bytes');
    let resume = () => {};
    const out = new RowBatches(() => resume());
    resume = this.readRows(table, columns, filter, out, (rows, paused) => {
      // Rows are read by the row decoder (wire-values.ts), one call per row.
      decodeRowsWith(rows, bytesColumns);
      rows.on('result', (row: unknown) => {
        if (!out.add(row as RawValue[])) paused();
      });
    });
    return out;
  }

  /** The same read as streamRows, each row's bytes handed on undecoded, for decoding on another thread (framed-rows.ts). */
  streamRowText(table: string, columns: SourceColumn[], filter?: RowFilter): RowTextBlocks {
    const bytesColumns = columns.map((c) => c.type.kind === 'bytes');
    let resume = () => {};
    const out = new RowTextBlocks(undefined, () => resume());
    resume = this.readRows(table, columns, filter, out, (rows, paused) => {
      let ready = true;
      takeRowBytesWith(
        rows,
        bytesColumns,
        (fields) => (out.format = { kind: 'mysql-rows', fields: fields.map(({ name, columnType, encoding }) => ({ name, columnType, encoding })), bytesColumns }),
        (bytes, start, end) => (ready = out.addRow(bytes, start, end)),
      );
      // mysql2 emits each row's `result` right after the parser took it.
      rows.on('result', () => {
        if (!ready) paused();
      });
    });
    return out;
  }

  /**
   * Runs the extract SELECT in its snapshot; `take` installs how rows reach `out` and calls
   * `paused` when `out` is full, which pauses the socket until `out` is read again (the
   * function returned resumes it). `out` ends when the rows and the read have ended.
   */
  private readRows(
    table: string,
    columns: SourceColumn[],
    filter: RowFilter | undefined,
    out: RowBatches | RowTextBlocks,
    take: (rows: Query, paused: () => void) => void,
  ): () => void {
    const select = columns.map((c) => `${c.readExpression ?? quoteMysql(c.name)} AS ${quoteMysql(c.name)}`).join(', ');
    const { where, params } = withKeyset(filterClause(filter, quoteMysql, () => '?'), filter);
    const query = `SELECT ${EXTRACT_QUERY_TAG} ${select} FROM ${this.qualified(table)}${where}`;
    // How long the read waited for the worker at most: a server's net_write_timeout ends
    // a connection whose rows wait longer, which the message of a lost read says.
    let pausedAt: number | undefined;
    let longestPauseMs = 0;
    const pausedFor = () => Math.max(longestPauseMs, pausedAt === undefined ? 0 : Date.now() - pausedAt);
    const lost = (e: Error) => lostRead(table, e, pausedFor());
    this.reading = { table, out, lost };
    this.conn.query(sql.BEGIN_SNAPSHOT, (err) => {
      if (err) return out.destroy(err);
      const rows = this.conn.query({ sql: query, values: params, typeCast: hookMissed });
      take(rows, () => {
        this.conn.pause();
        pausedAt ??= Date.now();
      });
      rows.on('error', (e: Error) => out.destroy(isLostMysqlConnection(e) ? lost(e) : e));
      rows.on('end', () => {
        if (this.holdNext) {
          this.holdNext = false;
          this.inSnapshot = true;
          return out.finish();
        }
        this.conn.query('COMMIT', () => out.finish());
      });
    });
    return () => {
      longestPauseMs = pausedFor();
      pausedAt = undefined;
      this.conn.resume();
    };
  }

  async cursorStats(table: string, column: string, time: boolean): Promise<CursorStats> {
    const c = quoteMysql(column);
    const t = this.qualified(table);
    // Subqueries, so that each can use an index on the cursor. The session is in UTC (sql.ts).
    const clock = time ? `, NOW(6) AS now, (SELECT COUNT(*) FROM ${t} WHERE ${c} > NOW(6)) AS ahead` : '';
    const [r] = await this.rows<{ hi: string | number | null; nulls: string | number; now?: string; ahead?: string | number }>(
      `SELECT (SELECT MAX(${c}) FROM ${t}) AS hi, (SELECT COUNT(*) FROM ${t} WHERE ${c} IS NULL) AS nulls${clock}`,
    );
    // An INT column's MAX arrives as a JS number; the mark is text (a number would be bound as INT64).
    return { max: r.hi === null || r.hi === undefined ? undefined : String(r.hi), nulls: Number(r.nulls), now: r.now, ahead: Number(r.ahead ?? 0) };
  }

  checkHealth(): Promise<SourceFinding[]> {
    return mysqlHealth((query, params) => this.rows(query, params), this.schema, this.tls);
  }

  contentSide(table: string, key: CheckedKey, columns: ComparedColumn[]): ContentSide {
    const run = async ({ text, params }: { text: string; params: string[] }) => {
      const [rows] = await this.conn.promise().query({ sql: text, values: params, rowsAsArray: true, typeCast: (f) => f.string() });
      return rows as (string | null)[][];
    };
    let ready: Promise<unknown> | undefined;
    const side = sourceContentSide(mysqlChecksumDialect(this.schema, table), run, key, columns);
    const prepared = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A) => {
      ready ??= this.conn.promise().query(CHECKSUM_SESSION);
      await ready;
      return f(...a);
    };
    return { keyRange: prepared(side.keyRange), buckets: prepared(side.buckets), leafRows: prepared(side.leafRows) };
  }

  holdSnapshot(): void {
    this.holdNext = true;
  }

  async beginSnapshot(): Promise<void> {
    if (this.inSnapshot) return;
    await this.conn.promise().query(sql.BEGIN_SNAPSHOT);
    this.inSnapshot = true;
  }

  async endSnapshot(): Promise<void> {
    this.holdNext = false;
    if (!this.inSnapshot) return;
    this.inSnapshot = false;
    await this.conn.promise().query('COMMIT');
  }

  async close(): Promise<void> {
    this.conn.destroy();
  }

  private qualified(table: string): string {
    return `${quoteMysql(this.schema)}.${quoteMysql(table)}`;
  }
}

/** A key range's terms AND'ed to the rest of the filter; its values stay parameters (bytes as Buffers). */
function withKeyset(clause: { where: string; params: string[] }, filter: RowFilter | undefined): { where: string; params: KeyValue[] } {
  if (!filter?.keyset) return clause;
  const range = keysetClause(filter.keyset);
  if (!range.sql) return clause;
  return {
    where: clause.where ? `${clause.where} AND ${range.sql}` : ` WHERE ${range.sql}`,
    params: [...clause.params, ...range.params],
  };
}
