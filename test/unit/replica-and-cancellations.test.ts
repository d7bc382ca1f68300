import { parseConfig, resolveSourceEndpoint } from '../../config/load';
import { configProblems } from '../helpers/config-problems';
import { readCancellation } from '../../sources/postgres/errors';
import { DRIVERS } from '../../sources/registry';
import { makeRedactor } from '../../worker/logging';

const config = (replica: string) => `
bigquery: { project: p }
sources:
  shop:
    type: postgres
    url: \${SHOP_URL}
${replica}
    tables: [orders]
pipelines:
  nightly: { sources: [shop] }
`;

const problems = (text: string): string => configProblems(text);

describe('a source replica', () => {
  const env = { SHOP_URL: 'postgres://app@primary/shop', SHOP_REPLICA_URL: 'postgres://app@replica/shop' };
  const saved = { ...process.env };
  beforeAll(() => Object.assign(process.env, env));
  afterAll(() => {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  });

  test('takes the read by default; the other uses stay on url', () => {
    const { config: c } = parseConfig(config('    replica:\n      url: ${SHOP_REPLICA_URL}'), 'f');
    const shop = c.sources.shop;
    expect(shop.replica).toEqual({ url: '${SHOP_REPLICA_URL}', useFor: ['read'] });
    expect(resolveSourceEndpoint('shop', shop, 'read')).toEqual({ url: env.SHOP_REPLICA_URL, key: 'sources.shop.replica.url', replica: true });
    for (const use of ['plan', 'doctor', 'estimates'] as const) {
      expect(resolveSourceEndpoint('shop', shop, use)).toEqual({ url: env.SHOP_URL, key: 'sources.shop.url', replica: false });
    }
  });

  test('useFor sends the uses it names', () => {
    const { config: c } = parseConfig(config('    replica:\n      url: ${SHOP_REPLICA_URL}\n      useFor: [read, plan, estimates]'), 'f');
    expect(resolveSourceEndpoint('shop', c.sources.shop, 'plan').replica).toBe(true);
    expect(resolveSourceEndpoint('shop', c.sources.shop, 'doctor').replica).toBe(false);
  });

  test('an unknown use, a use named twice, an empty list, a missing url or a literal password are refused', () => {
    expect(problems(config('    replica:\n      url: ${R}\n      useFor: [reads]'))).toContain('sources.shop.replica.useFor.0');
    expect(problems(config('    replica:\n      url: ${R}\n      useFor: [read, read]'))).toContain('sources.shop.replica.useFor: names a use twice');
    expect(problems(config('    replica:\n      url: ${R}\n      useFor: []'))).toContain('sources.shop.replica.useFor');
    expect(problems(config('    replica:\n      useFor: [read]'))).toContain('sources.shop.replica.url');
    const msg = problems(config('    replica:\n      url: "postgres://app:s3cret@replica/shop"'));
    expect(msg).toContain('sources.shop.replica.url holds a literal password');
    expect(msg).toContain('${SHOP_REPLICA_URL}');
    expect(msg).not.toContain('s3cret');
  });

  test('its URL stays a reference until a connection is opened, and is redacted from logs', () => {
    const loaded = parseConfig(config('    replica:\n      url: ${SHOP_REPLICA_URL}'), 'f');
    expect(loaded.config.sources.shop.replica!.url).toBe('${SHOP_REPLICA_URL}');
    const redact = makeRedactor(loaded, { SHOP_REPLICA_URL: 'postgres://app:pw-1234@replica/shop' });
    expect(redact('cannot reach postgres://app:pw-1234@replica/shop')).toBe('cannot reach <redacted>');
  });
});

describe('a PostgreSQL read cancelled on purpose', () => {
  const conflict = { code: '40001', message: 'canceling statement due to conflict with recovery' };

  test('a recovery conflict names the standby settings and shorter reads', () => {
    const c = readCancellation(conflict)!;
    expect(c.reason).toBe('40001: canceling statement due to conflict with recovery');
    expect(c.fix).toMatch(/max_standby_streaming_delay.*hot_standby_feedback = on/);
    expect(c.shorterReads).toBe(true);
    // FATAL, when the session was idle in its transaction: the same conflict.
    expect(readCancellation({ code: '40001', message: 'terminating connection due to conflict with recovery' })?.fix).toContain('max_standby_streaming_delay');
  });

  test("the role's timeouts name the setting and how to change it", () => {
    expect(readCancellation({ code: '57014', message: 'canceling statement due to statement timeout' })?.fix).toContain('ALTER ROLE <user> SET statement_timeout = 0');
    expect(readCancellation({ code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' })?.fix).toContain(
      'ALTER ROLE <user> SET idle_in_transaction_session_timeout = 0',
    );
    expect(readCancellation({ code: '55P03', message: 'canceling statement due to lock timeout' })?.fix).toContain('ALTER ROLE <user> SET lock_timeout = 0');
    expect(readCancellation({ code: '55P03', message: 'could not obtain lock on row in relation "x"' })).toBeUndefined();
    expect(readCancellation({ code: '57014', message: 'canceling statement due to user request' })?.fix).toContain('pg_cancel_backend');
  });

  test('is its own kind; a serialization failure of a writer, a lost session or a bad query are not', () => {
    const postgres = DRIVERS.postgres;
    expect(postgres.classifyError(conflict)).toBe('cancelled');
    expect(postgres.classifyError({ code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' })).toBe('cancelled');
    expect(readCancellation({ code: '40001', message: 'could not serialize access due to concurrent update' })).toBeUndefined();
    expect(readCancellation({ code: '57P01', message: 'terminating connection due to administrator command' })).toBeUndefined();
    expect(readCancellation({ code: '42P01', message: 'relation "x" does not exist' })).toBeUndefined();
  });
});
