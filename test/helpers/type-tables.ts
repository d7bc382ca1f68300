/**
 * The tables of the type round trip (test/integration/types.test.ts): every mapped type with
 * its edge values, also verified by content (test/integration/verify-content.test.ts).
 */

export const MYSQL_DDL = `CREATE TABLE x_types_my (
  id INT PRIMARY KEY,
  c_tinyint TINYINT, c_tinyint_u TINYINT UNSIGNED, c_bool TINYINT(1), c_smallint SMALLINT, c_smallint_u SMALLINT UNSIGNED,
  c_mediumint MEDIUMINT, c_mediumint_u MEDIUMINT UNSIGNED, c_int INT, c_int_u INT UNSIGNED,
  c_bigint BIGINT, c_bigint_u BIGINT UNSIGNED,
  c_dec_18_4 DECIMAL(18,4), c_dec_38_9 DECIMAL(38,9), c_dec_65_30 DECIMAL(65,30), c_dec_65_0 DECIMAL(65,0),
  c_float FLOAT, c_double DOUBLE, c_bit1 BIT(1), c_bit8 BIT(8), c_bit64 BIT(64),
  c_char CHAR(10), c_varchar VARCHAR(100), c_text TEXT, c_enum ENUM('a','b c','d'), c_set SET('x','y','z'),
  c_binary BINARY(4), c_varbinary VARBINARY(16), c_blob BLOB,
  c_date DATE, c_time TIME(6), c_year YEAR, c_datetime DATETIME(6), c_timestamp TIMESTAMP(6) NULL,
  c_json JSON, c_point POINT, c_uuid UUID, c_inet6 INET6
)`;

export const MYSQL_ROWS = [
  `(1, 127, 255, 2, -32768, 65535, 8388607, 16777215, -2147483648, 4294967295,
    9223372036854775807, 18446744073709551615,
    99999999999999.9999, 99999999999999999999999999999.999999999,
    99999999999999999999999999999999999.999999999999999999999999999999,
    12345678901234567890123456789012345678901234567890123456789012345,
    1.5, 1.7976931348623157e308, b'1', b'11111111', b'1111111111111111111111111111111111111111111111111111111111111111',
    'abc', 'emoji 🚀, tab\\t, newline\\n, bell ${String.fromCharCode(7)}', 'long text', 'b c', 'x,z',
    0x00FF0102, 0xDEADBEEF, 'blob',
    '9999-12-31', '838:59:59.000000', 2155, '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999',
    '{"a": [1, 2.5, "x"], "big": 12345678901234567890}', ST_GeomFromText('POINT(1 2)'),
    '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1')`,
  `(2, -128, 0, 0, 0, 0, -8388608, 0, 0, 0,
    -9223372036854775808, 0,
    -0.0001, -1.000000001, -0.000000000000000000000000000001, -1,
    -0, -2.2250738585072014e-308, b'0', b'0', b'0',
    '', '', '', 'a', '',
    0x00, X'', '',
    '0000-00-00', '-838:59:59.000000', 1901, '0000-00-00 00:00:00', '1970-01-01 00:00:01.000000',
    '[]', NULL, '00000000-0000-0000-0000-000000000000', '::ffff:10.0.0.1')`,
  `(3, ${Array(37).fill('NULL').join(', ')})`,
];

export const PG_DDL = [
  'DROP TABLE IF EXISTS x_types_pg',
  'DROP TYPE IF EXISTS x_mood',
  'DROP DOMAIN IF EXISTS x_posint',
  "CREATE TYPE x_mood AS ENUM ('sad', 'ok', 'happy')",
  'CREATE DOMAIN x_posint AS integer CHECK (VALUE > 0)',
  `CREATE TABLE x_types_pg (
    id int PRIMARY KEY, c_int2 smallint, c_int4 integer, c_int8 bigint,
    c_num_18_4 numeric(18,4), c_num_40_10 numeric(40,10), c_num_free numeric,
    c_real real, c_double double precision, c_bool boolean, c_char char(5), c_varchar varchar(50), c_text text, c_bytea bytea,
    c_date date, c_time time(6), c_timetz timetz, c_ts timestamp(6), c_tstz timestamptz(6), c_interval interval,
    c_json json, c_jsonb jsonb, c_uuid uuid, c_int_array int[], c_text_array text[], c_enum x_mood,
    c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money, c_point point, c_bit bit(4), c_varbit varbit(8),
    c_domain x_posint, c_xml xml, c_range int4range)`,
];

export const PG_ROWS = [
  `(1, 32767, 2147483647, 9223372036854775807, 99999999999999.9999, 123456789012345678901234567890.0123456789,
    3.14159265358979323846264338327950288419716939937510, 'NaN', 'Infinity', true, 'ab',
    E'emoji 🚀 \\t', 'text', '\\x00ff', '2024-02-29', '24:00:00', '12:34:56+09',
    '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.999999+09', '1 year 2 mons 3 days 04:05:06.7',
    '{"a": 1}', '{"b": [1, 2]}', '123e4567-e89b-12d3-a456-426614174000', '{1,2,NULL}', '{"a","b c",NULL}', 'happy',
    '10.0.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', 1234.56, '(1,2)', B'1010', B'101', 5, '<a>1</a>', '[1,10)')`,
  `(2, -32768, -2147483648, -9223372036854775808, -99.5, 'NaN', -0.5, '-Infinity', 'NaN', false, '', '', '', '\\x',
    'infinity', '00:00:00', '00:00:00+00', '-infinity', '1970-01-01 00:00:00+00', '-1 day',
    '[]', 'null', '00000000-0000-0000-0000-000000000000', '{}', '{}', 'sad',
    '::1', '::/0', '00:00:00:00:00:00', -0.01, '(0,0)', B'0000', B'', 1, '', 'empty')`,
  `(3, ${Array(35).fill('NULL').join(', ')})`,
];
