import type { Query } from 'mysql2';
import { RowBytes, RowDecoder, WireField } from './wire-values';

/**
 * mysql2's one public way to read values with one's own code is `typeCast`: a callback for
 * every value of every row, with a closure made for each, which cost more than the reading
 * itself on wide tables. Its Query command (mysql2 3.x, lib/commands/query.js) keeps the
 * row parser it compiles for a result set in `_rowParser`, set once the column definitions
 * are in and called as `next(packet, fields)` for each row; a RowDecoder (wire-values.ts)
 * takes that place here, so that a row is read by one call.
 *
 * Should a mysql2 release keep its parser elsewhere, the query's `typeCast` below is what
 * mysql2 would call instead: it fails the read with a message rather than let mysql2's own
 * parser hand over JavaScript numbers.
 */
export function decodeRowsWith(query: Query, bytesColumns: readonly boolean[]): void {
  let decoder: RowDecoder | undefined;
  let decoderFields: readonly WireField[] | undefined;
  replaceRowParser(query, (packet, fields) => {
    if (fields !== decoderFields) {
      checkColumns(fields, bytesColumns);
      decoder = new RowDecoder(fields, (i) => bytesColumns[i]);
      decoderFields = fields;
    }
    return decoder!.decode(packet);
  });
}

/**
 * In the same place, hands each row's bytes to `onRow` undecoded (for decoding on another
 * thread, framed-rows.ts), after `onFields` with the result's column definitions; mysql2
 * then emits a `result` of `undefined` for each row.
 */
export function takeRowBytesWith(
  query: Query,
  bytesColumns: readonly boolean[],
  onFields: (fields: readonly WireField[]) => void,
  onRow: (bytes: Buffer, start: number, end: number) => void,
): void {
  let seenFields: readonly WireField[] | undefined;
  replaceRowParser(query, (packet, fields) => {
    if (fields !== seenFields) {
      checkColumns(fields, bytesColumns);
      onFields(fields);
      seenFields = fields;
    }
    onRow(packet.buffer, packet.offset, packet.end);
    return undefined;
  });
}

function checkColumns(fields: readonly WireField[], bytesColumns: readonly boolean[]): void {
  if (fields.length !== bytesColumns.length) throw new Error(`the server sent ${fields.length} columns for the ${bytesColumns.length} selected`);
}

function replaceRowParser(query: Query, next: (packet: RowBytes, fields: readonly WireField[]) => unknown): void {
  const command = query as unknown as Record<string, unknown>;
  if (!('_rowParser' in command)) throw new Error(`${NOT_IN_PLACE} (its Query has no _rowParser)`);
  const parser = { next };
  // mysql2 assigns its parser once the column definitions are in: ours is put in its place
  // then, as a plain property again (an accessor would be called for every row).
  Object.defineProperty(command, '_rowParser', {
    configurable: true,
    enumerable: true,
    get: () => null,
    set: () => Object.defineProperty(command, '_rowParser', { value: parser, writable: true, configurable: true, enumerable: true }),
  });
}

const NOT_IN_PLACE = "bqsync's row decoder is not in place in this mysql2 version";

/** The `typeCast` of a query whose rows decodeRowsWith reads: mysql2 calls it only if the hook failed. */
export function hookMissed(): never {
  throw new Error(`${NOT_IN_PLACE}: mysql2 parsed a value itself`);
}
