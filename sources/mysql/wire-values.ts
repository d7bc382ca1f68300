import type { QueryOptions } from 'mysql2';
import type { RawValue } from '../logical-types';
import { internalGeometryToWkt } from './geometry-text';

type Field = Parameters<Exclude<NonNullable<QueryOptions['typeCast']>, boolean>>[0];

/**
 * Each column's value as the server sent it, in its logical type's form (logical-types.ts),
 * decided by the type code the server puts in the result's column definition, so that it
 * holds whichever of MySQL 8 or MariaDB sent it:
 * - JSON (type 245, MySQL only): sent with the binary character set (63), so its bytes are
 *   read as UTF-8, what JSON text is; `field.string()` would read them as latin1 (and mysql2
 *   would warn on stderr for every value). MariaDB's JSON is LONGTEXT, plain text.
 * - BIT (type 16): the bits, most significant byte first, as an unsigned decimal.
 * - GEOMETRY (type 255): the internal format, as WKT (geometry-text.ts).
 * - `bytes` columns (BINARY, VARBINARY, BLOB) by name: a Buffer.
 * - anything else: the server's own text.
 */
export function wireValueReader(bytesColumns: ReadonlySet<string>): (field: Field) => RawValue {
  return (field) => {
    if (bytesColumns.has(field.name)) return field.buffer();
    switch (field.type) {
      case 'JSON':
        return field.buffer()?.toString('utf8') ?? null;
      case 'BIT': {
        const bits = field.buffer();
        return bits && (bits.length === 0 ? '0' : BigInt('0x' + bits.toString('hex')).toString());
      }
      case 'GEOMETRY': {
        const value = field.buffer();
        return value && internalGeometryToWkt(value);
      }
      default:
        return field.string();
    }
  };
}
