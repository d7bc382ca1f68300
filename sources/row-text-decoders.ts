import { FramedRows } from './mysql/framed-rows';
import { CopyTextRows } from './postgres/copy-text';
import type { RowTextDecoder, RowTextFormat } from './row-text';

/**
 * The decoder of each row text format. Its own module, apart from the drivers, so that a
 * thread that only decodes loads no database client.
 */
export function rowTextDecoder(format: RowTextFormat): RowTextDecoder {
  switch (format.kind) {
    case 'postgres-copy-text': {
      const rows = new CopyTextRows(format.types);
      return {
        decode(block, onRow) {
          rows.push(block, onRow);
          rows.finish();
        },
      };
    }
    case 'mysql-rows':
      return new FramedRows(format.fields, format.bytesColumns);
  }
}
