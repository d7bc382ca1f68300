/**
 * Column mixes of the benchmark's tables, as DDL and as a SELECT over a row number, for
 * MariaDB and PostgreSQL alike: narrow (4 columns, ~40 bytes a row), medium (the shape of
 * an events table) and wide (30 columns of eight kinds, ~400 bytes a row).
 */
export const COLUMN_MIXES = ['narrow', 'medium', 'wide'] as const;
export type ColumnMix = (typeof COLUMN_MIXES)[number];
type Engine = 'mysql' | 'postgres';

interface Column {
  name: string;
  type: Record<Engine, string>;
  /** The value for row number `n` (a column expression of the generating query). */
  value: Record<Engine, (n: string) => string>;
}

const id: Column = { name: 'id', type: { mysql: 'BIGINT PRIMARY KEY', postgres: 'bigint PRIMARY KEY' }, value: { mysql: (n) => n, postgres: (n) => n } };

const NARROW: Column[] = [
  id,
  { name: 'user_id', type: { mysql: 'INT', postgres: 'integer' }, value: { mysql: (n) => `${n} % 50021`, postgres: (n) => `${n} % 50021` } },
  {
    name: 'kind',
    type: { mysql: 'VARCHAR(16)', postgres: 'varchar(16)' },
    value: { mysql: (n) => `ELT(1 + ${n} % 4, 'click', 'view', 'buy', 'leave')`, postgres: (n) => `(ARRAY['click','view','buy','leave'])[1 + ${n} % 4]` },
  },
  {
    name: 'created_at',
    type: { mysql: 'DATETIME(6)', postgres: 'timestamp(6)' },
    value: {
      mysql: (n) => `TIMESTAMP('2025-01-01') + INTERVAL ${n} SECOND + INTERVAL (${n} % 1000000) MICROSECOND`,
      postgres: (n) => `timestamp '2025-01-01' + ${n} * interval '1 second' + (${n} % 1000000) * interval '1 microsecond'`,
    },
  },
];

const MEDIUM: Column[] = [
  ...NARROW,
  {
    name: 'amount',
    type: { mysql: 'DECIMAL(12,2)', postgres: 'numeric(12,2)' },
    value: { mysql: (n) => `ROUND(${n} % 100000 * 0.01, 2)`, postgres: (n) => `round(${n} % 100000 * 0.01, 2)` },
  },
  {
    name: 'note',
    type: { mysql: 'VARCHAR(64)', postgres: 'varchar(64)' },
    value: { mysql: (n) => `CONCAT('event number ', ${n})`, postgres: (n) => `'event number ' || ${n}` },
  },
];

/** The eight kinds a wide table's columns cycle through; k makes each column's values differ. */
const WIDE_KINDS: ((k: number) => Omit<Column, 'name'>)[] = [
  (k) => ({ type: { mysql: 'INT', postgres: 'integer' }, value: { mysql: (n) => `${n} * ${k} % 100003`, postgres: (n) => `${n} * ${k} % 100003` } }),
  (k) => ({
    type: { mysql: 'DECIMAL(14,2)', postgres: 'numeric(14,2)' },
    value: { mysql: (n) => `ROUND(${n} % 100000 * 0.01 * ${k}, 2)`, postgres: (n) => `round(${n} % 100000 * 0.01 * ${k}, 2)` },
  }),
  (k) => ({
    type: { mysql: 'VARCHAR(64)', postgres: 'varchar(64)' },
    value: { mysql: (n) => `CONCAT('value ', ${n}, ' of column ${k}')`, postgres: (n) => `'value ' || ${n} || ' of column ${k}'` },
  }),
  (k) => ({
    type: { mysql: 'DATETIME(6)', postgres: 'timestamp(6)' },
    value: {
      mysql: (n) => `TIMESTAMP('2024-01-01') + INTERVAL (${n} * ${k}) SECOND + INTERVAL (${n} % 1000) MICROSECOND`,
      postgres: (n) => `timestamp '2024-01-01' + ${n} * ${k} * interval '1 second' + (${n} % 1000) * interval '1 microsecond'`,
    },
  }),
  (k) => ({ type: { mysql: 'DOUBLE', postgres: 'double precision' }, value: { mysql: (n) => `${n} / ${k}e0`, postgres: (n) => `${n}::float8 / ${k}` } }),
  (k) => ({
    type: { mysql: 'DATE', postgres: 'date' },
    value: { mysql: (n) => `DATE('2020-01-01') + INTERVAL ((${n} + ${k}) % 2000) DAY`, postgres: (n) => `date '2020-01-01' + ((${n} + ${k}) % 2000)::int` },
  }),
  (k) => ({ type: { mysql: 'TINYINT(1)', postgres: 'boolean' }, value: { mysql: (n) => `(${n} + ${k}) % 2`, postgres: (n) => `(${n} + ${k}) % 2 = 1` } }),
  (k) => ({
    type: { mysql: 'BIGINT', postgres: 'bigint' },
    value: { mysql: (n) => `IF(${n} % 10 = ${k % 10}, NULL, ${n} * 1000 + ${k})`, postgres: (n) => `CASE WHEN ${n} % 10 = ${k % 10} THEN NULL ELSE ${n} * 1000 + ${k} END` },
  }),
];

const WIDE: Column[] = [id, ...Array.from({ length: 29 }, (_, i) => ({ name: `c${String(i + 1).padStart(2, '0')}`, ...WIDE_KINDS[i % WIDE_KINDS.length](i + 1) }))];

const COLUMNS: Record<ColumnMix, Column[]> = { narrow: NARROW, medium: MEDIUM, wide: WIDE };

export function mixColumns(mix: ColumnMix): string[] {
  return COLUMNS[mix].map((c) => c.name);
}

export function mixDdl(mix: ColumnMix, engine: Engine): string {
  return `(${COLUMNS[mix].map((c) => `${c.name} ${c.type[engine]}`).join(', ')})`;
}

export function mixSelect(mix: ColumnMix, engine: Engine, rowNumber: string): string {
  return COLUMNS[mix].map((c) => c.value[engine](rowNumber)).join(', ');
}
