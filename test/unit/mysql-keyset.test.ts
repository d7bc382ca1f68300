import { decodeKeyValue, encodeKeyValue } from '../../activities/table-sync/key-bounds';
import type { SourceColumn } from '../../sources/logical-types';
import { canRangeOver, keysetClause, tupleComparison } from '../../sources/mysql/keyset';

const text = (name: string, columnType = 'varchar(40)'): SourceColumn => ({ name, columnType, type: { kind: 'string' }, nullable: false });
const bytes = (name: string): SourceColumn => ({ name, columnType: 'binary(16)', type: { kind: 'bytes' }, nullable: false });
const int = (name: string): SourceColumn => ({ name, columnType: 'bigint(20)', type: { kind: 'integer' }, nullable: false });
const when = (name: string): SourceColumn => ({ name, columnType: 'datetime(6)', type: { kind: 'datetime' }, nullable: false });
const NUM = 'CAST(? AS DECIMAL(65,30))';

test('one key column: >= the lower bound and < the upper bound, values as parameters', () => {
  const id = bytes('id');
  const lo = Buffer.from('00ff', 'hex');
  const hi = Buffer.from('7f00', 'hex');
  expect(keysetClause({ columns: [id], lower: [lo], upper: [hi] })).toEqual({ sql: '`id` >= ? AND `id` < ?', params: [lo, hi] });
  // The first range has no lower bound, the last no upper one (rows added meanwhile are read).
  expect(keysetClause({ columns: [id], upper: [hi] })).toEqual({ sql: '`id` < ?', params: [hi] });
  expect(keysetClause({ columns: [id], lower: [lo] })).toEqual({ sql: '`id` >= ?', params: [lo] });
});

test('two key columns: the expanded tuple comparison, parameters in text order, numbers compared as exact decimals', () => {
  expect(tupleComparison([text('code'), when('at')], ['Ab ', '2024-01-01 00:00:00.000001'], '>=')).toEqual({
    sql: '(`code` > ? OR (`code` = ? AND `at` >= ?))',
    params: ['Ab ', 'Ab ', '2024-01-01 00:00:00.000001'],
  });
  expect(tupleComparison([text('code'), int('n')], ['x', '9007199254740993'], '<')).toEqual({
    sql: `(\`code\` < ? OR (\`code\` = ? AND \`n\` < ${NUM}))`,
    params: ['x', 'x', '9007199254740993'],
  });
});

test('three key columns, both bounds: lower terms then upper terms', () => {
  const cols = [text('a'), text('b'), text('c')];
  const { sql, params } = keysetClause({ columns: cols, lower: ['a1', 'b1', 'c1'], upper: ['a2', 'b2', 'c2'] });
  expect(sql).toBe(
    '(`a` > ? OR (`a` = ? AND `b` > ?) OR (`a` = ? AND `b` = ? AND `c` >= ?))' +
      ' AND (`a` < ? OR (`a` = ? AND `b` < ?) OR (`a` = ? AND `b` = ? AND `c` < ?))',
  );
  expect(params).toEqual(['a1', 'a1', 'b1', 'a1', 'b1', 'c1', 'a2', 'a2', 'b2', 'a2', 'b2', 'c2']);
});

test('identifiers are quoted, whatever their name', () => {
  expect(tupleComparison([text('we`ird')], ['v'], '<').sql).toBe('`we``ird` < ?');
});

test('a bound with the wrong number of values is refused', () => {
  expect(() => tupleComparison([text('a'), text('b')], ['x'], '>=')).toThrow(/1 values for 2 key columns/);
});

test('keys whose order the server cannot range over exactly are not split', () => {
  expect(canRangeOver([text('code'), when('at')])).toBe(true);
  expect(canRangeOver([text('state', "enum('b','a')")])).toBe(false);
  expect(canRangeOver([text('tags', "set('x','y')")])).toBe(false);
  expect(canRangeOver([{ name: 'f', columnType: 'double', type: { kind: 'float' }, nullable: false }])).toBe(false);
  expect(canRangeOver([])).toBe(false);
});

test('boundary values go to BigQuery and back unchanged: text, trailing spaces, multibyte, bytes', () => {
  for (const v of ['AbC ', '', 'b64:not bytes', 'ünï 日本 🙂', Buffer.from([0, 255, 32, 0]), Buffer.alloc(0)]) {
    expect(decodeKeyValue(encodeKeyValue(v))).toEqual(v);
  }
});
