/**
 * A geometry as MySQL and MariaDB send the column itself: their internal format, a 4-byte
 * little-endian SRID followed by the value's WKB. Turned into WKT here rather than with
 * ST_AsText() on the server, because MySQL 8's ST_AsText() writes a geographic SRS's
 * coordinates in that SRS's axis order (latitude first for SRID 4326), while the stored
 * value, and WKT as BigQuery's ST_GEOGFROMTEXT reads it, put longitude first. The SRID
 * itself is not kept (the text is STRING in BigQuery, see README "Types").
 */

const NAMES = ['', 'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON', 'GEOMETRYCOLLECTION'];

/** WKT of a geometry in the internal format; throws on bytes that are not one. */
export function internalGeometryToWkt(value: Buffer): string {
  if (value.length < 9) throw new Error(`a geometry value of ${value.length} bytes is too short for the SRID and WKB header`);
  const reader = new WkbReader(value, 4);
  const text = reader.geometry();
  if (reader.offset !== value.length) throw new Error(`a geometry value has ${value.length - reader.offset} bytes after its WKB`);
  return text;
}

class WkbReader {
  private littleEndian = true;

  constructor(
    private readonly buf: Buffer,
    public offset: number,
  ) {}

  geometry(): string {
    this.littleEndian = this.buf[this.offset++] === 1;
    const type = this.uint32();
    const name = NAMES[type];
    if (!name) throw new Error(`WKB geometry type ${type} is not a 2D OGC type`);
    const body = this.body(type);
    return body === undefined ? `${name} EMPTY` : `${name}${body}`;
  }

  /** The part after the type name, parenthesised; undefined for an empty geometry. */
  private body(type: number): string | undefined {
    if (type === 1) return `(${this.point()})`;
    if (type === 2) return this.list(() => this.point());
    if (type === 3) return this.list(() => this.list(() => this.point()) ?? 'EMPTY');
    // Collections hold whole WKB geometries, each with its own byte order and type.
    if (type === 4) return this.list(() => this.nested(() => this.point()));
    if (type === 5) return this.list(() => this.nested(() => this.list(() => this.point()) ?? 'EMPTY'));
    if (type === 6) return this.list(() => this.nested(() => this.list(() => this.list(() => this.point()) ?? 'EMPTY') ?? 'EMPTY'));
    return this.list(() => this.geometry());
  }

  private nested(read: () => string): string {
    this.littleEndian = this.buf[this.offset++] === 1;
    this.uint32();
    return read();
  }

  private list(item: () => string): string | undefined {
    const n = this.uint32();
    if (n === 0) return undefined;
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(item());
    return `(${items.join(',')})`;
  }

  private point(): string {
    return `${coordinate(this.double())} ${coordinate(this.double())}`;
  }

  private uint32(): number {
    const v = this.littleEndian ? this.buf.readUInt32LE(this.offset) : this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  private double(): number {
    const v = this.littleEndian ? this.buf.readDoubleLE(this.offset) : this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
}

/** The shortest text that reads back as the same double, as MySQL prints it (`1e21`, not `1e+21`). */
function coordinate(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v).replace('e+', 'e');
}
