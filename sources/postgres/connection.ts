import { createHash } from 'node:crypto';
import { Client, Query, QueryArrayConfig } from 'pg';
import { to as copyTo, CopyToStreamQuery as CopyOutStream } from 'pg-copy-streams';
import { errorCode, SourceConnectionLost } from '../connection-lost';
import { CursorStats, EXTRACT_QUERY_TAG, filterClause, RowFilter, SharedSnapshot, SharedSnapshots, SourceConnection, SourceFinding } from '../driver';
import { SourceSnapshotGone } from '../snapshot-gone';
import type { RawValue, SourceColumn } from '../logical-types';
import { RowBatches } from '../row-batches';
import { RowTextBlocks } from '../row-text';
import { SourceReadCancelled } from '../read-cancelled';
import { effectiveTls, EffectiveTls, isLocalHost, TlsSettings } from '../tls';
import { tlsFromUrl } from '../tls-url';
import { isLostPostgresConnection, quotePostgres, readCancellation } from './errors';
import { postgresHealth } from './health';
import { POSTGRES_URL_TLS, postgresSsl } from './tls';
import * as sql from './sql';
import { postgresLogicalType, valueForms } from './types';
import { CopyTextRows } from './copy-text';
import type { CheckedKey, ComparedColumn, ContentSide } from '../../common/content-checksum';
import { sourceContentSide } from '../content-side';
import { postgresChecksumDialect } from './checksum-sql';

/** A session on one PostgreSQL schema. */
export class PostgresConnection implements SourceConnection {
  /** The extraction in progress, which a lost connection must end (pg tells only the client). */
  private reading?: { table: string; out: RowOutlet };
  /** Content verification: keep the next read's snapshot open (holdSnapshot), and whether one is open. */
  private holdNext = false;
  private inSnapshot = false;
  /** A COPY whose data has not all arrived: its socket is read only as the rows are taken. */
  private copying?: CopyOutStream;
  /** The snapshot another session exported that the next read imports (readNextIn). */
  private importNext?: SharedSnapshot;

  private constructor(
    private readonly client: Client,
    readonly schema: string,
    private readonly tls: EffectiveTls,
  ) {
    // Without a listener, a backend the server ends (pg_terminate_backend, restart) would crash the worker.
    client.on('error', (err: Error) => {
      const reading = this.reading;
      if (reading && !reading.out.destroyed) reading.out.destroy(readFault(reading.table, err, true));
    });
  }

  static async open(url: string, schema: string, connectTimeoutMs: number, tlsConfig?: TlsSettings): Promise<PostgresConnection> {
    const { url: connectionString, settings, host } = tlsFromUrl(url, POSTGRES_URL_TLS);
    const tls = effectiveTls(settings, tlsConfig, isLocalHost(host));
    const client = new Client({ connectionString, types: valueForms, connectionTimeoutMillis: connectTimeoutMs, ssl: postgresSsl(tls) });
    await client.connect();
    // No session-level SET: a pooler may hand the session's statements to other server
    // connections. Value-bearing queries set what they need in their own transaction.
    return new PostgresConnection(client, schema, tls);
  }

  readonly sharedSnapshots: SharedSnapshots = {
    tableBlocks: async (table) => {
      const [r] = await this.catalogRows<{ blocks: string }>(sql.TABLE_BLOCKS, [this.schema, table]);
      return Number(r?.blocks ?? 0);
    },
    exportSnapshot: async () => {
      await this.beginSnapshot();
      const [r] = await this.rows<{ id: string; horizons: string }>(sql.EXPORT_SNAPSHOT);
      return { id: r.id, fingerprint: fingerprint(r.horizons) };
    },
    checkHeld: async () => {
      if (!this.inSnapshot) throw new Error('no snapshot is held on this connection');
      await this.rows(sql.SNAPSHOT_HELD);
    },
    readNextIn: (snapshot) => {
      this.importNext = snapshot;
    },
  };

  /**
   * Catalog queries: names, integers and text, whose form no session setting changes; each
   * may run on another server connection behind a pooler.
   */
  private async rows<T>(query: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(query, params)).rows as T[];
  }

  /**
   * The catalog and planning queries (shape, key, estimates, key span): in a settled
   * transaction, so that a role's own statement_timeout or lock_timeout cannot cancel them
   * on a busy server (the read lifts them the same way); inside a snapshot that is open
   * already, in that one, whose settings are the same.
   */
  private async catalogRows<T>(query: string, params: unknown[] = []): Promise<T[]> {
    return this.inSnapshot ? this.rows<T>(query, params) : this.settledRows<T>(query, params);
  }

  /** A query whose values' text depends on the settings (times, dates): in a transaction of its own that sets them. */
  private async settledRows<T>(query: string, params: unknown[] = []): Promise<T[]> {
    await this.client.query(sql.BEGIN_SETTLED);
    try {
      const rows = await this.rows<T>(query, params);
      await this.client.query('COMMIT');
      return rows;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async listTables(): Promise<string[]> {
    return (await this.catalogRows<{ name: string }>(sql.LIST_TABLES, [this.schema])).map((r) => r.name);
  }

  async describeTable(table: string): Promise<SourceColumn[]> {
    const rows = await this.catalogRows<Record<string, string | null>>(sql.DESCRIBE_COLUMNS, [this.schema, table]);
    return rows.map((r) => {
      const name = String(r.name);
      const typmod = Number(r.typmod);
      const isNumeric = r.type_name === 'numeric' && typmod >= 4;
      const info = {
        name,
        typeName: String(r.type_name),
        // numeric's typmod packs precision and scale: ((p << 16) | s) + 4
        precision: isNumeric ? ((typmod - 4) >> 16) & 0xffff : null,
        scale: isNumeric ? (typmod - 4) & 0xffff : null,
      };
      const { type, readExpression } = postgresLogicalType(info, quotePostgres);
      return { name, columnType: String(r.column_type), type, readExpression, nullable: r.not_null !== 'true', comment: r.comment ?? undefined };
    });
  }

  async primaryKey(table: string): Promise<string[]> {
    return (await this.catalogRows<{ name: string }>(sql.PRIMARY_KEY, [this.schema, table])).map((r) => r.name);
  }

  async estimateRows(tables: string[]): Promise<Map<string, number>> {
    const rows = await this.catalogRows<{ name: string; n: string }>(sql.ESTIMATE_ROWS, [this.schema, tables]);
    return new Map(rows.filter((r) => Number(r.n) >= 0).map((r) => [r.name, Number(r.n)]));
  }

  async keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined> {
    const c = quotePostgres(column);
    const [r] = await this.catalogRows<{ lo: string | null; hi: string | null }>(`SELECT MIN(${c})::text AS lo, MAX(${c})::text AS hi FROM ${this.qualified(table)}`).catch(
      (e) => Promise.reject(readFault(table, e, false, false)),
    );
    return r?.lo == null || r.hi == null ? undefined : { min: String(r.lo), max: String(r.hi) };
  }

  async tableComment(table: string): Promise<string | undefined> {
    return (await this.catalogRows<{ c: string | null }>(sql.TABLE_COMMENT, [this.schema, table]))[0]?.c ?? undefined;
  }

  async tablesWithoutSelect(tables: string[]): Promise<string[]> {
    if (tables.length === 0) return [];
    return (await this.catalogRows<{ name: string }>(sql.TABLES_WITHOUT_SELECT, [this.schema, tables])).map((r) => r.name);
  }

  streamRows(table: string, columns: SourceColumn[], filter?: RowFilter): RowBatches {
    // A `where:` with values keeps its parameters typed by where they stand: the query path.
    if (filter?.condition && filter.condition.values.length > 0) return this.queryRows(table, columns, filter);
    return this.copyRows(table, columns, filter);
  }

  /**
   * The rows as `COPY (SELECT ...) TO STDOUT` in text format, parsed here (copy-text.ts):
   * the server sends each row's text in one message, without the per-field framing and
   * per-value parsing of a query's rows. Same snapshot and settings as the query path, so
   * every value's text is the same; bounds are bound through settings (sql.BIND_BOUNDS).
   */
  private copyRows(table: string, columns: SourceColumn[], filter?: RowFilter): RowBatches {
    const parser = new CopyTextRows(columns.map((c) => c.type));
    let copy: CopyOutStream | undefined;
    const out = new RowBatches(() => copy?.resume());
    let ready = true;
    const onRow = (row: RawValue[]) => {
      if (!out.add(row)) ready = false;
    };
    this.copyOut(table, columns, filter, out, (c) => (copy = c), {
      add(chunk) {
        ready = true;
        parser.push(chunk, onRow);
        return ready;
      },
      finish: () => parser.finish(),
    });
    return out;
  }

  /** The same COPY as copyRows, its text handed on unparsed in blocks of whole rows (sources/row-text.ts). */
  streamRowText(table: string, columns: SourceColumn[], filter?: RowFilter): RowTextBlocks | undefined {
    if (filter?.condition && filter.condition.values.length > 0) return undefined;
    let copy: CopyOutStream | undefined;
    const out = new RowTextBlocks({ kind: 'postgres-copy-text', types: columns.map((c) => c.type) }, () => copy?.resume());
    this.copyOut(table, columns, filter, out, (c) => (copy = c), { add: (chunk) => out.add(chunk), finish: () => undefined });
    return out;
  }

  /**
   * Runs the COPY in a read's transaction, handing its data to `sink` (false: pause the
   * socket until `out` is read again), and ends `out` when the data and the read have ended.
   */
  private copyOut(
    table: string,
    columns: SourceColumn[],
    filter: RowFilter | undefined,
    out: RowOutlet,
    started: (copy: CopyOutStream) => void,
    sink: { add(chunk: Buffer): boolean; finish(): void },
  ): void {
    const select = columns.map((c) => c.readExpression ?? quotePostgres(c.name)).join(', ');
    this.reading = { table, out };
    const start = async () => {
      await this.beginRead(table);
      const where = await this.boundWhere(table, filter);
      const text = `COPY (SELECT ${EXTRACT_QUERY_TAG} ${select} FROM ${this.qualified(table)}${where}) TO STDOUT`;
      const copy = this.client.query(copyTo(text));
      started(copy);
      this.copying = copy;
      copy.on('data', (chunk: Buffer) => {
        // A consumer gone (an error, a cancelled sync): read no further; close() ends the session.
        if (out.destroyed) {
          copy.pause();
          return;
        }
        let ready: boolean;
        try {
          ready = sink.add(chunk);
        } catch (e) {
          return out.destroy(e as Error);
        }
        if (!ready) copy.pause();
      });
      copy.on('error', (e: Error) => {
        this.copying = undefined; // the error ended the COPY; pg reads on
        this.failRead(out, table, e);
      });
      copy.on('end', () => {
        this.copying = undefined;
        try {
          sink.finish();
        } catch (e) {
          return out.destroy(e as Error);
        }
        this.endRead(out);
      });
    };
    start().catch((e: Error) => this.failRead(out, table, e));
  }

  /**
   * Starts a read's transaction: a snapshot of its own, or the one readNextIn named, which
   * must be the very snapshot exported (its horizons), not a later one that took its ID.
   */
  private async beginRead(table: string): Promise<void> {
    const shared = this.importNext;
    this.importNext = undefined;
    if (!shared) {
      await this.client.query(sql.BEGIN_SNAPSHOT);
      return;
    }
    try {
      await this.client.query(sql.beginInSnapshot(shared.id));
    } catch (err) {
      // 22023: "invalid snapshot identifier", the exporting transaction has ended.
      if (errorCode(err) === '22023' || /snapshot/i.test((err as Error).message)) throw new SourceSnapshotGone(table, describeSnapshotError(err));
      throw err;
    }
    const [r] = await this.rows<{ horizons: string }>(sql.SNAPSHOT_HORIZONS);
    if (fingerprint(r.horizons) !== shared.fingerprint) throw new SourceSnapshotGone(table, 'the snapshot ID now names another snapshot');
  }

  /** A read that failed in its transaction: the error to the consumer, the aborted transaction rolled back for the connection's next use. */
  private failRead(out: RowOutlet, table: string, err: Error): void {
    out.destroy(readFault(table, err));
    this.client.query('ROLLBACK').catch(() => undefined);
  }

  /** The WHERE of a COPY's query: bounds read from the transaction's settings, a `where:` without values as written. */
  private async boundWhere(table: string, filter?: RowFilter): Promise<string> {
    if (!filter) return '';
    const parts: string[] = [];
    if (filter.from !== undefined || filter.below !== undefined) {
      const column = filter.column!;
      const bound = await this.rows<{ type: string }>(sql.BIND_BOUNDS, [this.schema, table, column, filter.from ?? '', filter.below ?? '']);
      if (bound.length === 0) throw new Error(`column "${column}" of ${this.qualified(table)} not found`);
      const c = quotePostgres(column);
      const value = (setting: string) => `pg_catalog.current_setting('${setting}')::${bound[0].type}`;
      if (filter.from !== undefined) {
        const atLeast = `${c} >= ${value(sql.BOUND_SETTING.from)}`;
        parts.push(filter.orNull ? `(${atLeast} OR ${c} IS NULL)` : atLeast);
      }
      if (filter.below !== undefined) parts.push(`${c} < ${value(sql.BOUND_SETTING.below)}`);
    }
    if (filter.blocks) {
      await this.rows(sql.BIND_BLOCKS, [filter.blocks.from, filter.blocks.below ?? '']);
      parts.push(...blockBounds(filter.blocks, (bound) => `pg_catalog.current_setting('${bound === 'from' ? sql.BOUND_SETTING.from : sql.BOUND_SETTING.below}')`));
    }
    if (filter.condition) parts.push(`(${filter.condition.sql})`);
    return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
  }

  /** The last row is in: commit, or keep the snapshot open for content verification (holdSnapshot). */
  private endRead(out: RowOutlet): void {
    if (this.holdNext) {
      this.holdNext = false;
      this.inSnapshot = true;
      return out.finish();
    }
    this.client.query('COMMIT').then(
      () => out.finish(),
      (e) => out.destroy(e),
    );
  }

  /** The rows as one streamed query, its values bound as parameters. */
  private queryRows(table: string, columns: SourceColumn[], filter: RowFilter): RowBatches {
    const select = columns.map((c) => c.readExpression ?? quotePostgres(c.name)).join(', ');
    const { where, params } = filterClause(filter, quotePostgres, (i) => `$${i}`);
    const blocks = filter.blocks ? blockBounds(filter.blocks, (bound) => `$${params.push(filter.blocks![bound]!)}::text`) : [];
    const text = `SELECT ${EXTRACT_QUERY_TAG} ${select} FROM ${this.qualified(table)}${joinWhere(where, blocks)}`;
    // One query whose rows stream in as the server sends them, the server producing the next
    // rows while these are encoded (a cursor's FETCH would make the two take turns).
    // Backpressure pauses the socket, so memory holds what TCP has buffered, whatever the table.
    const socket = this.client.connection.stream;
    const out = new RowBatches(() => socket.resume());
    this.reading = { table, out };
    this.beginRead(table).then(
      () => {
        const config: QueryArrayConfig = { text, values: params, rowMode: 'array', types: valueForms };
        const query = new Query(config);
        query.on('row', (row: RawValue[]) => {
          if (!out.add(row)) socket.pause();
        });
        query.on('error', (e: Error) => out.destroy(readFault(table, e)));
        query.on('end', () => this.endRead(out));
        this.client.query(query);
      },
      (e) => this.failRead(out, table, e),
    );
    return out;
  }

  async cursorStats(table: string, column: string, time: boolean): Promise<CursorStats> {
    const c = quotePostgres(column);
    const t = this.qualified(table);
    // Subqueries, so that each can use an index on the cursor.
    const clock = time ? `, (now() AT TIME ZONE 'UTC')::text AS now, (SELECT COUNT(*) FROM ${t} WHERE ${c} > now()) AS ahead` : '';
    const [r] = await this.settledRows<{ hi: string | null; nulls: string; now?: string; ahead?: string }>(
      `SELECT (SELECT MAX(${c}) FROM ${t})::text AS hi, (SELECT COUNT(*) FROM ${t} WHERE ${c} IS NULL) AS nulls${clock}`,
    ).catch((e) => Promise.reject(readFault(table, e, false, false)));
    return { max: r.hi ?? undefined, nulls: Number(r.nulls), now: r.now, ahead: Number(r.ahead ?? 0) };
  }

  checkHealth(): Promise<SourceFinding[]> {
    return postgresHealth((query, params) => this.rows(query, params), this.schema, this.tls);
  }

  contentSide(table: string, key: CheckedKey, columns: ComparedColumn[]): ContentSide {
    const run = async ({ text, params }: { text: string; params: string[] }) => {
      const config: QueryArrayConfig = { text, values: params, rowMode: 'array', types: valueForms };
      return (await this.client.query(config)).rows as (string | null)[][];
    };
    return sourceContentSide(postgresChecksumDialect(this.schema, table), run, key, columns);
  }

  holdSnapshot(): void {
    this.holdNext = true;
  }

  async beginSnapshot(): Promise<void> {
    if (this.inSnapshot) return;
    await this.client.query(sql.BEGIN_SNAPSHOT);
    this.inSnapshot = true;
  }

  async endSnapshot(): Promise<void> {
    this.holdNext = false;
    if (!this.inSnapshot) return;
    this.inSnapshot = false;
    await this.client.query('COMMIT');
  }

  async close(): Promise<void> {
    // A socket paused mid-stream would never read the server's goodbye; a COPY left
    // unfinished is not read to its end: its session ends with the socket.
    if (this.copying) this.client.connection.stream.destroy();
    else this.client.connection.stream.resume();
    await this.client.end().catch(() => undefined);
  }

  private qualified(table: string): string {
    return `${quotePostgres(this.schema)}.${quotePostgres(table)}`;
  }
}

/**
 * A failed read of `table` as the table sync needs to see it: cancelled on purpose by the
 * server (SourceReadCancelled, with the setting to change), the session lost
 * (SourceConnectionLost), or the error as it is. `ended`: the connection is known to be gone.
 * `lost`: a lost session counts as SourceConnectionLost (false where the caller reports it).
 */
function readFault(table: string, err: Error, ended = false, lost = true): Error {
  const cancelled = readCancellation(err);
  if (cancelled) return new SourceReadCancelled(table, cancelled.reason, cancelled.fix, cancelled.shorterReads);
  if (lost && (ended || isLostPostgresConnection(err))) return new SourceConnectionLost(table, err.message);
  return err;
}

/** ctid bounds of a block range: from the first tuple of block `from` to before the first of `below`. */
function blockBounds(blocks: { from: string; below?: string }, value: (bound: 'from' | 'below') => string): string[] {
  const parts = [`ctid >= ${sql.blockTid(value('from'))}`];
  if (blocks.below !== undefined) parts.push(`ctid < ${sql.blockTid(value('below'))}`);
  return parts;
}

function joinWhere(where: string, more: string[]): string {
  if (more.length === 0) return where;
  return where ? `${where} AND ${more.join(' AND ')}` : ` WHERE ${more.join(' AND ')}`;
}

/** A snapshot's horizons, hashed: equal for every session that reads the same snapshot. */
function fingerprint(horizons: string): string {
  return createHash('sha256').update(horizons).digest('hex').slice(0, 16);
}

/** The server's refusal, by code and without the ID it names. */
function describeSnapshotError(err: unknown): string {
  const code = errorCode(err);
  return `${code ? `${code} ` : ''}${String((err as Error).message).replace(/"[^"]*"/g, '"..."')}`;
}

/** What a read hands its rows to: batches of values, or blocks of row text. */
type RowOutlet = RowBatches | RowTextBlocks;
