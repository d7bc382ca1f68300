/**
 * What a source column holds, said without any engine or destination: the drivers map
 * their engine's types to these, the BigQuery module maps these to BigQuery types. A new
 * engine or a new destination meets the others only here.
 *
 * Each type also fixes the form in which a driver hands its values over (RawValue), so
 * that the encoder never needs to know which engine a value came from:
 *
 * | type      | value form                                                                   |
 * |-----------|------------------------------------------------------------------------------|
 * | integer   | decimal digits, optional minus; fits a signed 64-bit integer                 |
 * | decimal   | exact decimal text, as the database prints it; `NaN` possible                |
 * | float     | the database's shortest exact text; `NaN`, `Infinity`, `-Infinity` possible  |
 * | bool      | `true` or `false`                                                            |
 * | string    | text (a Buffer is read as UTF-8)                                             |
 * | bytes     | a Buffer with the bytes                                                      |
 * | date      | `YYYY-MM-DD`; out-of-range forms possible (zero dates, ` BC`, 5-digit years) |
 * | datetime  | `YYYY-MM-DD HH:MM:SS[.ffffff]`, wall clock, no zone                          |
 * | timestamp | `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, no zone written                       |
 * | time      | `HH:MM:SS[.ffffff]` within a day; `24:00:00` possible                        |
 * | json      | valid JSON text                                                              |
 */
export type LogicalType =
  | { kind: 'integer' }
  /** Exact; `precision` null means unconstrained (any number of digits). */
  | { kind: 'decimal'; precision: number | null; scale: number }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'string' }
  | { kind: 'bytes' }
  | { kind: 'date' }
  | { kind: 'datetime' }
  | { kind: 'timestamp' }
  | { kind: 'time' }
  | { kind: 'json' };

export type LogicalKind = LogicalType['kind'];

/** A value as a driver hands it over, in its type's form (above), or NULL. */
export type RawValue = string | Buffer | null;

export interface SourceColumn {
  name: string;
  /** The type as the engine declares it (`bigint(20) unsigned`, `numeric(12,2)`), for messages. */
  columnType: string;
  type: LogicalType;
  nullable: boolean;
  comment?: string;
  /**
   * The driver's own SQL that reads the column in its type's value form, when the column
   * itself does not (quoted identifiers only, never values). Opaque outside the driver.
   */
  readExpression?: string;
  /**
   * For content checksums, when the driver makes the value form itself rather than the
   * server (MySQL BIT and geometry, sources/mysql/wire-values.ts): SQL the server can compute
   * to the same text, or null when it cannot, and the column is not compared.
   */
  checksumExpression?: string | null;
}

/** True for columns whose values are whole numbers: usable to split a table into key ranges. */
export function isWholeNumber(type: LogicalType): boolean {
  return type.kind === 'integer' || (type.kind === 'decimal' && type.precision !== null && type.scale === 0);
}
