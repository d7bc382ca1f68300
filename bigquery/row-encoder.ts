import type { RawValue } from '../sources/logical-types';
import { ColumnMapping, Encoding } from './types';

/**
 * Turns rows of raw values into NEWLINE_DELIMITED_JSON lines. Values that BigQuery cannot
 * hold (MySQL zero dates, PostgreSQL infinity or years beyond 9999) become NULL and are
 * counted per column, so the table's result says exactly what was changed.
 */
export class RowEncoder {
  readonly nulledValues: Record<string, number> = {};
  private readonly keys: string[];
  private readonly encoders: ((v: string | Buffer) => string | undefined)[];

  constructor(private readonly columns: ColumnMapping[]) {
    this.keys = columns.map((c) => JSON.stringify(c.bigQueryName) + ':');
    this.encoders = columns.map((c) => {
      const transform = c.transform;
      return transform ? (v: string | Buffer) => JSON.stringify(transform(v)) : encoderFor(c.encoding);
    });
  }

  encode(row: RawValue[]): string {
    let line = '{';
    let first = true;
    for (let i = 0; i < this.keys.length; i++) {
      const raw = row[i];
      if (raw === null || raw === undefined) continue; // absent key loads as NULL
      const json = this.encoders[i](raw);
      if (json === undefined) {
        const name = this.columns[i].source.name;
        this.nulledValues[name] = (this.nulledValues[name] ?? 0) + 1;
        continue;
      }
      line += (first ? '' : ',') + this.keys[i] + json;
      first = false;
    }
    return line + '}\n';
  }
}

const asText = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('utf8'));

const ZERO = 48;
const twoZeros = (t: string, at: number) => t.charCodeAt(at) === ZERO && t.charCodeAt(at + 1) === ZERO;

/**
 * BigQuery's DATE/DATETIME/TIMESTAMP range is years 0001 to 9999: no year, month or day 0,
 * no five-digit year, nothing BC. Character tests, not a regular expression: this runs
 * for every date of every row.
 */
function dateInRange(t: string): boolean {
  if (t.length < 10 || t.charCodeAt(4) !== 45 /* - */ || t.charCodeAt(7) !== 45) return false;
  if (twoZeros(t, 0) && twoZeros(t, 2)) return false;
  if (twoZeros(t, 5) || twoZeros(t, 8)) return false;
  return !t.endsWith(' BC');
}

function encoderFor(encoding: Encoding): (v: string | Buffer) => string | undefined {
  switch (encoding) {
    case 'integer':
      return (v) => asText(v);
    case 'decimal-string':
      return (v) => {
        const t = asText(v);
        return t === 'NaN' ? undefined : `"${t}"`;
      };
    case 'float':
      return (v) => {
        const t = asText(v);
        // BigQuery reads these three as strings in JSON; every other value is a number literal.
        return t === 'NaN' || t === 'Infinity' || t === '-Infinity' ? `"${t}"` : t;
      };
    case 'bool':
      return (v) => (asText(v) === 'true' ? 'true' : 'false');
    case 'string':
      return (v) => JSON.stringify(asText(v));
    case 'bytes':
      return (v) => `"${(typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64')}"`;
    case 'date':
    case 'datetime':
      return (v) => {
        const t = asText(v);
        return dateInRange(t) ? `"${t}"` : undefined;
      };
    case 'timestamp-utc':
      return (v) => {
        const t = asText(v);
        // UTC by the value form, with no zone written: say so, so that BigQuery reads no other.
        return dateInRange(t) ? `"${t}+00:00"` : undefined;
      };
    case 'time':
      return (v) => {
        const t = asText(v);
        return t.startsWith('24:') ? undefined : `"${t}"`;
      };
    case 'json-text':
      return (v) => asText(v);
  }
}
