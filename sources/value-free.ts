/**
 * A driver's error message with the quoted text that could be a row value masked. Servers
 * quote values in their messages (`Incorrect integer value: 'x' for column ...`,
 * `invalid input syntax for type integer: "x"`); a quoted name right after a word such as
 * "table" or "column" is kept, since the operator needs it and it is no value.
 */
export function maskQuotedValues(message: string, quotes: string): string {
  const quoted = new RegExp(`([${quotes}])(?:(?!\\1)[^\\\\]|\\\\.)*\\1`, 'g');
  return message.replace(quoted, (literal, _q: string, offset: number) =>
    NAME_BEFORE.test(message.slice(Math.max(0, offset - 24), offset)) ? literal : '<value>',
  );
}

const NAME_BEFORE = /\b(table|column|relation|schema|database|key|index|constraint|type|function|field|view|sequence|role|user)\s*$/i;

/** What a driver error says without values: its code and its masked message, at most 300 characters. */
export function valueFreeMessage(code: string, message: string, quotes: string): string {
  const masked = maskQuotedValues(message.split('\n')[0], quotes);
  const text = code ? `${code}: ${masked}` : masked;
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
