/**
 * A FAKE MySQL 8.0 server, for the client side of the MySQL driver only.
 *
 * No MySQL 8 server can be installed where these tests run (Debian ships MariaDB; MySQL's
 * downloads need the internet), so this speaks the client/server protocol through mysql2's
 * own server side (`mysql.createServer`) and answers the statements that
 * sources/mysql/ sends with the column definitions (type codes, character sets, flags)
 * and row bytes that MySQL 8.0 sends for them (text protocol, classic EOF packets: the
 * client does not ask for CLIENT_DEPRECATE_EOF here). It is not a database: it holds
 * declared tables of one schema and recognises the driver's statements by their shape;
 * any other statement is answered with an error that quotes it, so that a new statement
 * in the driver fails a test here instead of passing unseen.
 *
 * What MySQL 8.0 does that it reproduces (sources in README, "Types"):
 * - JSON columns: type 245 with character set 63 (binary), the JSON text as UTF-8 bytes;
 * - BIT(n): type 16, binary, ceil(n/8) bytes, most significant first;
 * - GEOMETRY: type 255, binary, 4-byte little-endian SRID followed by WKB (x = longitude for
 *   a geographic SRS);
 * - DATETIME(6)/TIMESTAMP(6): types 12/7 with 6 decimals, text with microseconds; TIMESTAMP
 *   text in the session's time zone (the fake keeps UTC values and honours only '+00:00');
 * - utf8mb4_0900_ai_ci (collation 255) text columns;
 * - invisible columns: listed by information_schema.COLUMNS (EXTRA 'INVISIBLE') but left
 *   out of `SELECT *`; generated columns: EXTRA 'VIRTUAL GENERATED' / 'STORED GENERATED';
 * - information_schema.CHECK_CONSTRAINTS has no TABLE_NAME column (error 1054);
 * - `max_execution_time` exists, `max_statement_time` does not (error 1193).
 */
import mysql from 'mysql2';
import { freePort } from './free-port';

/** MySQL's column type codes (include/field_types.h) and the flags used here. */
export const T = { TINY: 1, LONG: 3, TIMESTAMP: 7, LONGLONG: 8, DATETIME: 12, BIT: 16, JSON: 245, BLOB: 252, VAR_STRING: 253, GEOMETRY: 255 };
const NOT_NULL = 1;
const PRI_KEY = 2;
const BLOB = 16;
const UNSIGNED = 32;
const BINARY = 128;
/** Collation IDs: binary; utf8mb4_0900_ai_ci (MySQL 8's default); utf8mb3_general_ci (information_schema). */
export const CHARSET = { BINARY: 63, UTF8MB4_0900_AI_CI: 255, UTF8MB3: 33 };

export interface FakeColumn {
  name: string;
  /** information_schema.COLUMNS */
  dataType: string;
  columnType: string;
  extra?: string;
  nullable?: boolean;
  precision?: number;
  scale?: number;
  key?: boolean;
  /** The column definition MySQL 8 sends for it in a result set. */
  wire: { type: number; charset: number; length: number; flags?: number; decimals?: number };
}

export interface FakeTable {
  name: string;
  columns: FakeColumn[];
  /** Each value as the bytes (or text) MySQL 8 sends for it in the text protocol; null = SQL NULL. */
  rows: (Buffer | string | null)[][];
}

export interface FakeMysql8Options {
  schema: string;
  tables: FakeTable[];
  serverVersion?: string;
  /**
   * Stands for a server whose net_write_timeout passed while the client did not take rows:
   * after this many rows of a snapshot read it sends error 1161 (ER_NET_WRITE_INTERRUPTED)
   * and ends the connection (`'close'`: it ends it without a word, which is what a client
   * usually sees, the server being unable to write).
   */
  writeTimeout?: { afterRows: number; answer: 'error' | 'close' };
}

export interface FakeMysql8 {
  url: string;
  port: number;
  /** Every statement the clients sent, in order. */
  statements: string[];
  close(): Promise<void>;
}

/** A packet as mysql2's connection writes it: 4 header bytes, then the payload. */
class RawPacket {
  readonly buffer: Buffer;
  constructor(payload: Buffer) {
    this.buffer = Buffer.concat([Buffer.alloc(4), payload]);
  }
  length(): number {
    return this.buffer.length;
  }
  writeHeader(sequenceId: number): void {
    this.buffer.writeUIntLE(this.buffer.length - 4, 0, 3);
    this.buffer[3] = sequenceId;
  }
}

function lenenc(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  const b = Buffer.alloc(4);
  b[0] = 0xfd;
  b.writeUIntLE(n, 1, 3);
  return b;
}

const lenencString = (v: Buffer | string) => {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return Buffer.concat([lenenc(bytes.length), bytes]);
};

function columnDefinition(schema: string, table: string, c: { name: string; wire: FakeColumn['wire'] }): RawPacket {
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c;
  fixed.writeUInt16LE(c.wire.charset, 1);
  fixed.writeUInt32LE(c.wire.length, 3);
  fixed[7] = c.wire.type;
  fixed.writeUInt16LE(c.wire.flags ?? 0, 8);
  fixed[10] = c.wire.decimals ?? 0;
  return new RawPacket(Buffer.concat([...['def', schema, table, table, c.name, c.name].map((s) => lenencString(s)), fixed]));
}

const eof = () => new RawPacket(Buffer.from([0xfe, 0, 0, 0x02, 0]));

type Conn = mysql.Connection & {
  writePacket(p: RawPacket): void;
  writeOk(args?: unknown): void;
  writeError(args: { message: string; code: number }): void;
  stream: import('node:net').Socket;
};

/** An information_schema result column: names and types as MySQL 8's data-dictionary views send them. */
const text = (name: string) => ({ name, wire: { type: T.VAR_STRING, charset: CHARSET.UTF8MB3, length: 192 } });
const number = (name: string) => ({ name, wire: { type: T.LONGLONG, charset: CHARSET.BINARY, length: 21, flags: UNSIGNED | BINARY } });

export async function startFakeMysql8(options: FakeMysql8Options): Promise<FakeMysql8> {
  const statements: string[] = [];
  const port = await freePort();
  const server = mysql.createServer((c) => serve(c as unknown as Conn, options, statements));
  await new Promise<void>((resolve) => (server.listen as (...args: unknown[]) => void)(port, '127.0.0.1', resolve));
  const sockets = new Set<import('node:net').Socket>();
  (server as unknown as { _server: import('node:net').Server })._server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: `mysql://bqsync:secret@127.0.0.1:${port}/${options.schema}`,
    port,
    statements,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(conn: Conn, options: FakeMysql8Options, statements: string[]): void {
  const session = { timeZone: 'SYSTEM' };
  (conn as unknown as { serverHandshake(args: unknown): void }).serverHandshake({
    protocolVersion: 10,
    serverVersion: options.serverVersion ?? '8.0.36',
    connectionId: 8,
    statusFlags: 2,
    characterSet: CHARSET.UTF8MB4_0900_AI_CI,
    // Protocol 4.1, secure connection, plugin auth; not CLIENT_SSL (0x800): mysql2's server
    // side cannot start TLS. Any user and password are let in (no authCallback).
    capabilityFlags: 0xf7ff | (1 << 19),
  });
  conn.on('error', () => undefined);
  // mysql2's server side never ends its command, so it would not restart the packet sequence
  // for each new command as the protocol says; a client packet numbered 0 begins one.
  const internal = conn as unknown as { handlePacket(p?: { sequenceId: number }): void; sequenceId: number };
  const handlePacket = internal.handlePacket.bind(conn);
  internal.handlePacket = (packet) => {
    if (packet?.sequenceId === 0) internal.sequenceId = 0;
    handlePacket(packet);
  };
  const result = (schema: string, table: string, columns: { name: string; wire: FakeColumn['wire'] }[], rows: (Buffer | string | null)[][]) => {
    conn.writePacket(new RawPacket(lenenc(columns.length)));
    for (const c of columns) conn.writePacket(columnDefinition(schema, table, c));
    conn.writePacket(eof());
    for (const row of rows) conn.writePacket(rowPacket(row));
    conn.writePacket(eof());
  };
  // mysql2's server side hands SET statements to 'stmt_prepare' (server_handshake.js).
  conn.on('stmt_prepare', (query: string) => {
    statements.push(query);
    const unknown = /\bmax_statement_time\b/i.exec(query);
    if (unknown) return conn.writeError({ code: 1193, message: `Unknown system variable '${unknown[0]}'` });
    const zone = /time_zone\s*=\s*'([^']*)'/i.exec(query);
    if (zone) session.timeZone = zone[1];
    conn.writeOk();
  });
  conn.on('query', (query: string) => {
    statements.push(query);
    const q = query.replace(/\s+/g, ' ').trim();
    const param = (n: number) => [...q.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1])[n];
    const table = options.tables.find((t) => t.name === param(1));
    let m: RegExpExecArray | null;
    if (/^SELECT @@version AS version, DATABASE\(\) AS db$/i.test(q)) {
      return result('', '', [text('version'), text('db')], [[options.serverVersion ?? '8.0.36', options.schema]]);
    }
    if (/^SELECT DATABASE\(\) AS db$/i.test(q)) return result('', '', [text('db')], [[options.schema]]);
    if (/FROM information_schema\.TABLES WHERE TABLE_SCHEMA = '[^']*' AND TABLE_TYPE = 'BASE TABLE'/i.test(q)) {
      const names = param(0) === options.schema ? options.tables.map((t) => t.name).sort() : [];
      return result('information_schema', 'TABLES', [text('name')], names.map((n) => [n]));
    }
    if (/^SELECT TABLE_NAME AS name, TABLE_ROWS AS n FROM information_schema\.TABLES WHERE TABLE_SCHEMA = '[^']*' AND TABLE_NAME IN \(/i.test(q)) {
      const asked = [...q.matchAll(/'([^']*)'/g)].slice(1).map((x) => x[1]);
      const found = param(0) === options.schema ? options.tables.filter((t) => asked.includes(t.name)) : [];
      return result('information_schema', 'TABLES', [text('name'), number('n')], found.map((t) => [t.name, String(t.rows.length)]));
    }
    if (/^SELECT TABLE_COMMENT AS c FROM information_schema\.TABLES WHERE TABLE_SCHEMA = /i.test(q)) {
      return result('information_schema', 'TABLES', [text('c')], table && param(0) === options.schema ? [['']] : []);
    }
    if ((m = /^SELECT 1 FROM `([^`]+)`\.`([^`]+)` LIMIT 0$/i.exec(q))) {
      if (!options.tables.some((t) => t.name === m![2])) return conn.writeError({ code: 1146, message: `Table '${m[1]}.${m[2]}' doesn't exist` });
      return result('', '', [number('1')], []);
    }
    if (/FROM information_schema\.COLUMNS WHERE TABLE_SCHEMA = /i.test(q)) {
      const cols = param(0) === options.schema && table ? table.columns : [];
      const names = ['name', 'dataType', 'columnType', 'numPrecision', 'numScale', 'nullable', 'comment', 'extra'];
      const wanted = /^SELECT (.*) FROM/i.exec(q)![1].split(',').map((s) => / AS (\w+)$/i.exec(s.trim())?.[1] ?? s.trim());
      if (wanted.some((w) => !names.includes(w))) return conn.writeError({ code: 1054, message: `fake MySQL 8: unexpected column list: ${q}` });
      const value = (c: FakeColumn, w: string): string | null =>
        ({
          name: c.name,
          dataType: c.dataType,
          columnType: c.columnType,
          numPrecision: c.precision === undefined ? null : String(c.precision),
          numScale: c.scale === undefined ? null : String(c.scale),
          nullable: c.nullable === false ? 'NO' : 'YES',
          comment: '',
          extra: c.extra ?? '',
        })[w] ?? null;
      const wire = wanted.map((w) => (w === 'numPrecision' || w === 'numScale' ? number(w) : text(w)));
      return result('information_schema', 'COLUMNS', wire, cols.map((c) => wanted.map((w) => value(c, w))));
    }
    if (/FROM information_schema\.CHECK_CONSTRAINTS/i.test(q)) {
      return conn.writeError({ code: 1054, message: "Unknown column 'TABLE_NAME' in 'where clause'" });
    }
    if (/FROM information_schema\.KEY_COLUMN_USAGE/i.test(q)) {
      const keys = table?.columns.filter((c) => c.key) ?? [];
      return result('information_schema', 'KEY_COLUMN_USAGE', [text('name')], keys.map((c) => [c.name]));
    }
    if (/^START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY$/i.test(q) || /^COMMIT$/i.test(q)) return conn.writeOk();
    if ((m = /^SELECT \/\* bqsync:extract \*\/ (.*) FROM `([^`]+)`\.`([^`]+)`$/i.exec(q))) return snapshotRead(m[1], m[2], m[3]);
    if ((m = /^SELECT \* FROM `([^`]+)`\.`([^`]+)`$/i.exec(q))) {
      const t = options.tables.find((x) => x.name === m![2]);
      if (!t) return conn.writeError({ code: 1146, message: `Table '${m[1]}.${m[2]}' doesn't exist` });
      const visible = t.columns.map((c, i) => ({ c, i })).filter(({ c }) => !/\bINVISIBLE\b/i.test(c.extra ?? ''));
      return result(m[1], t.name, visible.map(({ c }) => c), t.rows.map((r) => visible.map(({ i }) => r[i])));
    }
    conn.writeError({ code: 1064, message: `fake MySQL 8 does not know this statement: ${q}` });
  });

  /** The driver's read: each selected column by name (`col` AS `col`), as MySQL sends the column itself. */
  function snapshotRead(list: string, schema: string, name: string) {
    const t = options.tables.find((x) => x.name === name);
    if (!t) return conn.writeError({ code: 1146, message: `Table '${schema}.${name}' doesn't exist` });
    const picked: number[] = [];
    for (const item of list.split(/, (?=`)/)) {
      const m = /^`((?:[^`]|``)+)` AS `((?:[^`]|``)+)`$/.exec(item);
      const i = m && m[1] === m[2] ? t.columns.findIndex((c) => c.name === m[1].replace(/``/g, '`')) : -1;
      if (i < 0) return conn.writeError({ code: 1064, message: `fake MySQL 8 reads columns by name only, not: ${item}` });
      picked.push(i);
    }
    if (t.columns.some((c) => c.dataType === 'timestamp') && session.timeZone !== '+00:00') {
      return conn.writeError({ code: 1064, message: 'fake MySQL 8 keeps TIMESTAMPs in UTC and answers only a +00:00 session' });
    }
    conn.writePacket(new RawPacket(lenenc(picked.length)));
    for (const i of picked) conn.writePacket(columnDefinition(schema, t.name, t.columns[i]));
    conn.writePacket(eof());
    const rows = t.rows.map((r) => picked.map((i) => r[i]));
    const cut = options.writeTimeout;
    if (!cut) {
      for (const row of rows) conn.writePacket(rowPacket(row));
      return conn.writePacket(eof());
    }
    for (const row of rows.slice(0, cut.afterRows)) conn.writePacket(rowPacket(row));
    if (cut.answer === 'close') return conn.stream.end();
    conn.writeError({ code: 1161, message: 'Got timeout writing communication packets' });
    conn.stream.end();
  }
}

function rowPacket(values: (Buffer | string | null)[]): RawPacket {
  return new RawPacket(Buffer.concat(values.map((v) => (v === null ? Buffer.from([0xfb]) : lenencString(v)))));
}

/** Column definitions MySQL 8.0 sends for columns of these types. */
export const wire = {
  int: { type: T.LONG, charset: CHARSET.BINARY, length: 11, flags: NOT_NULL | PRI_KEY | BINARY },
  json: { type: T.JSON, charset: CHARSET.BINARY, length: 4294967295, flags: BLOB | BINARY },
  bit: (n: number) => ({ type: T.BIT, charset: CHARSET.BINARY, length: n, flags: UNSIGNED }),
  geometry: { type: T.GEOMETRY, charset: CHARSET.BINARY, length: 4294967295, flags: BLOB | BINARY },
  datetime6: { type: T.DATETIME, charset: CHARSET.BINARY, length: 26, flags: BINARY, decimals: 6 },
  timestamp6: { type: T.TIMESTAMP, charset: CHARSET.BINARY, length: 26, flags: BINARY, decimals: 6 },
  varchar0900: (chars: number) => ({ type: T.VAR_STRING, charset: CHARSET.UTF8MB4_0900_AI_CI, length: chars * 4 }),
  bigintUnsigned: { type: T.LONGLONG, charset: CHARSET.BINARY, length: 20, flags: UNSIGNED | BINARY },
  tinyint1: { type: T.TINY, charset: CHARSET.BINARY, length: 1, flags: BINARY },
};

/** MySQL's internal geometry format: SRID (4 bytes, little-endian), then little-endian WKB. */
export function internalPoint(srid: number, x: number, y: number): Buffer {
  const b = Buffer.alloc(25);
  b.writeUInt32LE(srid, 0);
  b[4] = 1;
  b.writeUInt32LE(1, 5);
  b.writeDoubleLE(x, 9);
  b.writeDoubleLE(y, 17);
  return b;
}

/** A geometry in the internal format from its WKB type code and body (what follows the type). */
export function internalGeometry(srid: number, wkbType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(srid, 0);
  head[4] = 1;
  head.writeUInt32LE(wkbType, 5);
  return Buffer.concat([head, body]);
}

/** A WKB geometry without an SRID, as the members of a collection are. */
export function wkb(wkbType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32LE(wkbType, 1);
  return Buffer.concat([head, body]);
}
