/**
 * Source names that are awkward anywhere (quotes, backticks, semicolons, spaces, dashes,
 * Unicode): what may become a BigQuery name, how each dialect quotes them, and what
 * discovery picks. The integration side is test/integration/bad-input.test.ts.
 */
import { discoveredTables, nothingDiscoveredMessage } from '../../config/discovery';
import { quoteBigQuery } from '../../bigquery/names';
import { quoteMysql } from '../../sources/mysql/errors';
import { quotePostgres } from '../../sources/postgres/errors';
import { isValidBigQueryColumnName, isValidBigQueryTableName } from '../../bigquery/names';

const ODD = ['x_bad"q', 'x_bad`bt', 'x_bad;drop', 'x_ünï', 'x_bad sp', 'x_bad-dash', 'x_inj; DROP TABLE x_canary; --'];

test('BigQuery table names: Unicode letters, dashes and spaces yes; quotes, backticks and semicolons no', () => {
  expect(ODD.filter(isValidBigQueryTableName)).toEqual(['x_ünï', 'x_bad sp', 'x_bad-dash']);
  expect(['na;me', '"q"', 'b`t', 'émoji_😀', 'a b', 'a-b'].filter(isValidBigQueryColumnName)).toEqual([]);
});

test('every valid BigQuery table name can be quoted in BigQuery SQL, and nothing that ends the quoting can', () => {
  for (const t of ODD.filter(isValidBigQueryTableName)) expect(quoteBigQuery(`p-1.ds.${t}`)).toBe(`\`p-1.ds.${t}\``);
  for (const t of ['a`b', 'a\\b', 'a;b', "a'b", 'a"b', 'a\nb']) expect(() => quoteBigQuery(t)).toThrow('cannot be used as a BigQuery identifier');
});

test('source identifiers are quoted so that no name ends its quoting', () => {
  expect(quoteMysql('x_bad`bt')).toBe('`x_bad``bt`');
  expect(quoteMysql('x_inj; DROP TABLE x_canary; --')).toBe('`x_inj; DROP TABLE x_canary; --`');
  expect(quotePostgres('x_bad"q')).toBe('"x_bad""q"');
  expect(() => quotePostgres('a\u0000b')).toThrow('NUL');
});

test('discovery picks odd names like any other, and an empty result says where it looked and what to check', () => {
  expect(discoveredTables(['orders', ...ODD], { include: ['x_*'], exclude: ['x_inj*'] })).toEqual(ODD.slice(0, 6));
  expect(discoveredTables(['orders'], { include: ['ord*'], exclude: [] })).toEqual(['orders']);
  expect(nothingDiscoveredMessage('/etc/bqsync.yaml', 'shop', 'shop', { include: ['x_nothing_*'], exclude: ['tmp_*'] }, ['a', 'b'])).toBe(
    '/etc/bqsync.yaml: sources.shop: discovery found no table to sync in schema "shop" (which holds 2 base table(s), e.g. "a", "b") ' +
      'with include: ["x_nothing_*"], exclude: ["tmp_*"]. Check sources.shop.discover and sources.shop.schema, ' +
      "and that the source's user may read the tables; or remove the source from the pipeline",
  );
  expect(nothingDiscoveredMessage('f.yaml', 'pg', undefined, { include: ['*'], exclude: [] }, [])).toContain(
    'in the database of its URL (which holds no base tables this user can see) with include: ["*"].',
  );
});
