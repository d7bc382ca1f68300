import { SESSION_VALUE_NAMES, SESSION_VALUE_TYPES } from '../../common/session-time';

/** Digdag's `${...}` variables, as bqsync writes them. */

/** `_export:` parameters flattened to `a.b` names, the ones `${a.b}` can use. */
export type Exports = Record<string, string>;

export function flattenExports(value: unknown, prefix = '', into: Exports = {}): Exports {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenExports(v, prefix ? `${prefix}.${k}` : k, into);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    into[prefix] = String(value);
  }
  return into;
}

const isSession = (name: string): name is (typeof SESSION_VALUE_NAMES)[number] => (SESSION_VALUE_NAMES as string[]).includes(name);

/**
 * Replaces `${name}` of `_export:` parameters by their values and Digdag's session variables
 * by bqsync's `{{session_...}}`: a quoted date or time (`'${session_date}'`) loses its quotes,
 * since bqsync binds it as a typed value. Returns the variables it could not map (moment.js
 * expressions, `${task_name}`, unknown names); they are left as `{{...}}`, which bqsync refuses
 * at run time rather than guess.
 */
export function mapDigdagVariables(text: string, exports: Exports): { text: string; unmapped: string[] } {
  const unmapped: string[] = [];
  const withSession = text
    .replace(/'\$\{\s*([A-Za-z0-9_.]+)\s*\}'/g, (whole, name: string) =>
      isSession(name) && ['DATE', 'TIMESTAMP', 'DATETIME'].includes(SESSION_VALUE_TYPES[name]) ? `{{${name}}}` : whole,
    )
    .replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
      const name = inner.trim();
      if (isSession(name)) return `{{${name}}}`;
      if (name in exports) return exports[name];
      unmapped.push(whole);
      return `{{${name.replace(/[^A-Za-z0-9_.]/g, '_')}}}`;
    });
  return { text: withSession, unmapped };
}
