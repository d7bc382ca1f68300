/**
 * Tables of the MySQL 8 fake (fake-mysql8.ts): each value as the bytes MySQL 8.0 sends for
 * it, with the column definitions it sends. Shared by the driver's protocol test and the
 * round trip to BigQuery in types.test.ts.
 */
import { FakeTable, internalGeometry, internalPoint, wire, wkb } from './fake-mysql8';

export const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** WKB LineString body: point count, then x, y doubles (little-endian). */
function points(...xy: number[]): Buffer {
  const b = Buffer.alloc(4 + xy.length * 8);
  b.writeUInt32LE(xy.length / 2, 0);
  xy.forEach((v, i) => b.writeDoubleLE(v, 4 + i * 8));
  return b;
}
const ring = (...xy: number[]) => points(...xy);
const count = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
};
const polygon = (...rings: Buffer[]) => {
  const n = Buffer.alloc(4);
  n.writeUInt32LE(rings.length, 0);
  return Buffer.concat([n, ...rings]);
};

export const JSON_TABLE: FakeTable = {
  name: 'people_json',
  columns: [
    { name: 'id', dataType: 'int', columnType: 'int', nullable: false, key: true, precision: 10, scale: 0, wire: wire.int },
    { name: 'doc', dataType: 'json', columnType: 'json', wire: wire.json },
  ],
  rows: [
    ['1', utf8('{"name": "José"}')],
    ['2', utf8('[1, "日本", {"emoji": "😀"}, 12345678901234567890]')],
    ['3', null],
  ],
};

export const TYPES_TABLE: FakeTable = {
  name: 'mysql8_types',
  columns: [
    { name: 'id', dataType: 'int', columnType: 'int', nullable: false, key: true, precision: 10, scale: 0, wire: wire.int },
    { name: 'c_bit5', dataType: 'bit', columnType: 'bit(5)', precision: 5, wire: wire.bit(5) },
    { name: 'c_bit64', dataType: 'bit', columnType: 'bit(64)', precision: 64, wire: wire.bit(64) },
    // SRID 4326 is in information_schema.COLUMNS.SRS_ID; COLUMN_TYPE says only `point`.
    { name: 'c_where', dataType: 'point', columnType: 'point', wire: wire.geometry },
    { name: 'c_shape', dataType: 'geometry', columnType: 'geometry', wire: wire.geometry },
    { name: 'c_dt', dataType: 'datetime', columnType: 'datetime(6)', wire: wire.datetime6 },
    { name: 'c_ts', dataType: 'timestamp', columnType: 'timestamp(6)', wire: wire.timestamp6 },
    { name: 'c_name', dataType: 'varchar', columnType: 'varchar(64)', wire: wire.varchar0900(64) },
    { name: 'c_hidden', dataType: 'int', columnType: 'int', extra: 'INVISIBLE', precision: 10, scale: 0, wire: { ...wire.int, flags: 0 } },
    { name: 'c_virtual', dataType: 'int', columnType: 'int', extra: 'VIRTUAL GENERATED', precision: 10, scale: 0, wire: { ...wire.int, flags: 0 } },
    { name: 'c_stored', dataType: 'varchar', columnType: 'varchar(80)', extra: 'STORED GENERATED', wire: wire.varchar0900(80) },
    // MySQL 8.0.19 and later leave integer display widths out of COLUMN_TYPE, but for tinyint(1).
    { name: 'c_ubig', dataType: 'bigint', columnType: 'bigint unsigned', precision: 20, scale: 0, wire: wire.bigintUnsigned },
    { name: 'c_flag', dataType: 'tinyint', columnType: 'tinyint(1)', precision: 3, scale: 0, wire: wire.tinyint1 },
    { name: 'c_coll', dataType: 'geomcollection', columnType: 'geomcollection', wire: wire.geometry },
  ],
  rows: [
    [
      '1',
      Buffer.from([0x15]),
      Buffer.alloc(8, 0xff),
      internalPoint(4326, 139.6917, 35.6895), // stored x = longitude, y = latitude
      internalGeometry(0, 3, polygon(ring(0, 0, 10, 0, 10, 10, 0, 10, 0, 0), ring(2, 2, 3, 2, 3, 3, 2, 2))),
      '2024-02-29 23:59:59.123456',
      '2038-01-19 03:14:07.999999',
      'Ünïcødé 😀',
      '7',
      '14',
      'ÜNÏCØDÉ 😀!',
      '18446744073709551615',
      '2',
      internalGeometry(0, 7, Buffer.concat([count(2), wkb(1, points(1, 2).subarray(4)), wkb(2, points(0, 0, 1, 1))])),
    ],
    [
      '2',
      Buffer.from([0x00]),
      Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1]),
      internalPoint(4326, -0.5, -89.25),
      internalGeometry(0, 2, points(1.5, -2, 1e21, 0.1)),
      '1000-01-01 00:00:00.000000',
      '1970-01-01 00:00:01.000001',
      '',
      '-1',
      '-2',
      '!',
      '0',
      '0',
      internalGeometry(0, 7, count(0)),
    ],
    ['3', null, null, null, null, null, null, null, null, null, null, null, null, null],
  ],
};
