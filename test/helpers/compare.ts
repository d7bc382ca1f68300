/**
 * Puts a source value (driver text) and a BigQuery value (client object) into one form, so
 * that a test can compare them: what differs after this is a real difference in the data.
 */
export function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object' && 'value' in (value as object)) return normalize(String((value as { value: unknown }).value));
  // NUMERIC and BIGNUMERIC arrive as Big numbers: every digit, no exponent.
  if (typeof value === 'object' && typeof (value as { toFixed?: unknown }).toFixed === 'function') {
    return normalize((value as { toFixed: () => string }).toFixed());
  }
  if (typeof value === 'object') return JSON.stringify(value);
  let s = String(value);
  // JSON text: compare as data, not by spacing.
  if (/^[[{]/.test(s)) {
    try {
      return JSON.stringify(JSON.parse(s));
    } catch {
      return s;
    }
  }
  // Dates and times: 'T' or ' ', trailing zeros of the fraction, a UTC marker.
  const dt = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|\+00(:00)?)?$/.exec(s);
  if (dt) {
    const frac = (dt[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
    return `${dt[1]} ${dt[2]}${frac}`;
  }
  // Exact decimals: trailing zeros of the fraction do not change the value.
  if (/^-?\d+\.\d+$/.test(s)) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}
