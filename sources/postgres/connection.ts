import { Client, Query, QueryArrayConfig } from 'pg';
import { isLostConnection, SourceConnectionLost } from '../connection-lost';
import { RowBatches } from '../row-batches';
import { EXTRACT_QUERY_TAG, filterClause, RowFilter, SourceReader } from '../driver';
import { ColumnMapping, mapPostgresColumn, SourceColumn } from '../../bigquery/types';
import { RawValue } from '../../bigquery/row-encoder';

/** PostgreSQL identifiers are quoted with double quotes, an inner quote doubled. */
export function quotePostgres(identifier: string): string {
  if (identifier.includes('\u0000')) throw new Error(`identifier ${JSON.stringify(identifier)} contains a NUL character`);
  return '"' + identifier.replace(/"/g, '""') + '"';
}

// Every value as PostgreSQL's own text: no JS number, no Date, no zone conversion.
const rawText = { getTypeParser: () => (value: string) => value };

export class PostgresSource implements SourceReader {
  /** The extraction in progress, which a lost connection must end (pg tells only the client). */
  private reading?: { table: string; out: RowBatches };

  private constructor(
    private readonly client: Client,
    private readonly schema: string,
  ) {
    // Without a listener, a backend the server ends (pg_terminate_backend, restart) would crash the worker.
    client.on('error', (err: Error) => {
      const reading = this.reading;
      if (reading && !reading.out.destroyed) reading.out.destroy(new SourceConnectionLost(reading.table, err.message));
    });
  }

  static async connect(url: string, schema = 'public'): Promise<PostgresSource> {
    const client = new Client({ connectionString: url, types: rawText, connectionTimeoutMillis: 20_000 });
    await client.connect();
    // Fixed text formats, whatever the server's or the role's settings.
    await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3");
    return new PostgresSource(client, schema);
  }

  async listTables(): Promise<string[]> {
    const { rows } = await this.client.query(
      `SELECT c.relname AS name FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname`,
      [this.schema],
    );
    return rows.map((r: { name: string }) => r.name);
  }

  async describeTable(table: string): Promise<SourceColumn[]> {
    const { rows } = await this.client.query(
      `SELECT a.attname AS name,
              CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END AS type_name,
              pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type,
              a.atttypmod AS typmod, a.attnotnull AS not_null,
              pg_catalog.col_description(c.oid, a.attnum) AS comment
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [this.schema, table],
    );
    return rows.map((r: Record<string, string>) => {
      const typmod = Number(r.typmod);
      const isNumeric = r.type_name === 'numeric' && typmod >= 4;
      return {
        name: r.name,
        dataType: r.type_name,
        columnType: r.column_type,
        // numeric's typmod packs precision and scale: ((p << 16) | s) + 4
        precision: isNumeric ? ((typmod - 4) >> 16) & 0xffff : null,
        scale: isNumeric ? (typmod - 4) & 0xffff : null,
        nullable: r.not_null !== 't' && (r.not_null as unknown) !== true,
        comment: r.comment ?? undefined,
      };
    });
  }

  async primaryKey(table: string): Promise<string[]> {
    const { rows } = await this.client.query(
      `SELECT a.attname AS name
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
        ORDER BY k.pos`,
      [this.schema, table],
    );
    return rows.map((r: { name: string }) => r.name);
  }

  async estimateRows(table: string): Promise<number> {
    const { rows } = await this.client.query(
      `SELECT GREATEST(c.reltuples, 0)::bigint AS n FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [this.schema, table],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined> {
    const c = quotePostgres(column);
    const { rows } = await this.client.query(
      `SELECT MIN(${c})::text AS lo, MAX(${c})::text AS hi FROM ${quotePostgres(this.schema)}.${quotePostgres(table)}`,
    );
    const r = rows[0];
    return r?.lo == null || r.hi == null ? undefined : { min: String(r.lo), max: String(r.hi) };
  }

  async tableComment(table: string): Promise<string | undefined> {
    const { rows } = await this.client.query(
      `SELECT pg_catalog.obj_description(c.oid, 'pg_class') AS c FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [this.schema, table],
    );
    return rows[0]?.c ?? undefined;
  }

  mapColumn(column: SourceColumn) {
    return mapPostgresColumn(column, quotePostgres);
  }

  streamRows(table: string, columns: ColumnMapping[], from?: RowFilter): RowBatches {
    const select = columns.map((c) => c.selectExpression ?? quotePostgres(c.source.name)).join(', ');
    const { where, params } = filterClause(from, quotePostgres, (i) => `$${i}`);
    const sql = `SELECT ${EXTRACT_QUERY_TAG} ${select} FROM ${quotePostgres(this.schema)}.${quotePostgres(table)}${where}`;
    // One query whose rows stream in as the server sends them, the server producing the next
    // rows while these are encoded (a cursor's FETCH would make the two take turns).
    // Backpressure pauses the socket, so memory holds what TCP has buffered, whatever the table.
    const socket = this.client.connection.stream;
    const out = new RowBatches(() => socket.resume());
    this.reading = { table, out };
    this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY').then(
      () => {
        const config: QueryArrayConfig = { text: sql, values: params, rowMode: 'array', types: rawText };
        const query = new Query(config);
        query.on('row', (row: RawValue[]) => {
          if (!out.add(row)) socket.pause();
        });
        query.on('error', (e: Error) => out.destroy(isLostConnection(e) ? new SourceConnectionLost(table, e.message) : e));
        query.on('end', () => {
          this.client.query('COMMIT').then(
            () => out.finish(),
            (e) => out.destroy(e),
          );
        });
        this.client.query(query);
      },
      (e) => out.destroy(e),
    );
    return out;
  }

  async close(): Promise<void> {
    // A socket paused mid-stream would never read the server's goodbye.
    this.client.connection.stream.resume();
    await this.client.end().catch(() => undefined);
  }
}
