import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../config/load';
import { sourceTlsSettings } from '../../config/source-tls';
import { makeRedactor } from '../../worker/logging';
import { MYSQL_URL_TLS, mysqlSsl } from '../../sources/mysql/tls';
import { POSTGRES_URL_TLS, postgresSsl } from '../../sources/postgres/tls';
import { effectiveTls, isLocalHost, nodeTlsOptions } from '../../sources/tls';
import { tlsFailure } from '../../sources/tls-failures';
import { tlsFromUrl, TlsSettingsError } from '../../sources/tls-url';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-tls-unit-'));
const caFile = path.join(dir, 'ca.pem');
fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('TLS settings in connection URLs', () => {
  test("PostgreSQL: libpq's parameters are taken out of the URL, the rest kept; the CA file is read", () => {
    const r = tlsFromUrl(`postgres://u:p%40ss@db.example.com:5432/shop?application_name=x&sslmode=verify-full&sslrootcert=${caFile}`, POSTGRES_URL_TLS);
    expect(r.url).toBe('postgres://u:p%40ss@db.example.com:5432/shop?application_name=x');
    expect(r.settings).toEqual({ mode: 'verify-full', ca: fs.readFileSync(caFile, 'utf8') });
    expect(r.host).toBe('db.example.com');
  });

  test('a URL without TLS parameters is passed on as written', () => {
    const url = 'postgres://u@db.example.com/shop?options=-c%20search_path%3Dx';
    expect(tlsFromUrl(url, POSTGRES_URL_TLS)).toEqual({ url, settings: {}, host: 'db.example.com' });
  });

  test("MySQL: bqsync's spelling and the MySQL client's", () => {
    expect(tlsFromUrl('mysql://u@db/shop?sslmode=verify-ca', MYSQL_URL_TLS).settings).toEqual({ mode: 'verify-ca' });
    const r = tlsFromUrl(`mysql://u@db/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=${caFile}&charset=utf8mb4`, MYSQL_URL_TLS);
    expect(r.settings.mode).toBe('verify-full');
    expect(r.settings.ca).toContain('BEGIN CERTIFICATE');
    expect(r.url).toBe('mysql://u@db/shop?charset=utf8mb4');
    expect(tlsFromUrl('mysql://u@db/shop?ssl-mode=REQUIRED', MYSQL_URL_TLS).settings.mode).toBe('require');
    expect(tlsFromUrl('mysql://u@db/shop?ssl-mode=disabled', MYSQL_URL_TLS).settings.mode).toBe('disable');
  });

  test('modes that fall back to no TLS, and the drivers own ssl= parameters, are refused with what to write', () => {
    expect(() => tlsFromUrl('postgres://u@db/shop?sslmode=prefer', POSTGRES_URL_TLS)).toThrow(
      "the URL's sslmode= prefer is not a mode bqsync uses; write one of disable, require, verify-ca, verify-full",
    );
    expect(() => tlsFromUrl('mysql://u@db/shop?ssl-mode=PREFERRED', MYSQL_URL_TLS)).toThrow(TlsSettingsError);
    expect(() => tlsFromUrl('postgres://u@db/shop?ssl=true', POSTGRES_URL_TLS)).toThrow("the URL's ssl= parameter is not used by bqsync; write sslmode=verify-full");
    expect(() => tlsFromUrl('mysql://u@db/shop?ssl={"rejectUnauthorized":false}', MYSQL_URL_TLS)).toThrow(TlsSettingsError);
    expect(() => tlsFromUrl('postgres://u@db/shop?sslrootcert=/nonexistent/ca.pem', POSTGRES_URL_TLS)).toThrow(
      "the URL's sslrootcert= names a file that cannot be read (ENOENT): /nonexistent/ca.pem",
    );
  });

  test('the host is the Unix socket or host parameter when the URL gives one', () => {
    expect(tlsFromUrl('postgres:///shop?host=/var/run/postgresql', POSTGRES_URL_TLS).host).toBe('/var/run/postgresql');
    expect(tlsFromUrl('mysql://u@localhost/shop?socketPath=/run/mysqld/mysqld.sock', MYSQL_URL_TLS).host).toBe('/run/mysqld/mysqld.sock');
    for (const local of ['localhost', '127.0.0.1', '::1', '[::1]', '', '/var/run/postgresql', '%2Fvar%2Frun']) expect(isLocalHost(local)).toBe(true);
    for (const remote of ['db.example.com', '10.0.0.5', '127.0.0.2', 'shop.abc.eu-west-1.rds.amazonaws.com']) expect(isLocalHost(remote)).toBe(false);
  });
});

describe('the TLS a connection uses', () => {
  test('default: verify-full off this machine, no TLS on it, verify-full on it when a CA is given', () => {
    expect(effectiveTls({}, undefined, false).mode).toBe('verify-full');
    expect(effectiveTls({}, undefined, true).mode).toBe('disable');
    expect(effectiveTls({}, { ca: 'PEM' }, true).mode).toBe('verify-full');
  });

  test("the URL's settings win over the config's, one by one", () => {
    const tls = effectiveTls({ mode: 'require' }, { mode: 'verify-full', ca: 'PEM' }, false);
    expect(tls).toMatchObject({ mode: 'require', ca: 'PEM' });
  });

  test("each mode's Node options: verify-ca skips the host name, require the whole check, disable is no TLS", () => {
    const at = (mode: 'disable' | 'require' | 'verify-ca' | 'verify-full') => effectiveTls({ mode }, { ca: 'PEM' }, false);
    expect(nodeTlsOptions(at('disable'))).toBeUndefined();
    expect(postgresSsl(at('disable'))).toBe(false);
    expect(nodeTlsOptions(at('verify-full'))).toEqual({ rejectUnauthorized: true, ca: 'PEM' });
    const verifyCa = nodeTlsOptions(at('verify-ca'))!;
    expect(verifyCa.rejectUnauthorized).toBe(true);
    expect(verifyCa.checkServerIdentity!('other.host', {} as never)).toBeUndefined();
    expect(nodeTlsOptions(at('require'))!.rejectUnauthorized).toBe(false);
    expect(mysqlSsl(at('verify-ca'))).toMatchObject({ ca: 'PEM', rejectUnauthorized: true });
    expect(mysqlSsl(at('require'))).toMatchObject({ rejectUnauthorized: false });
    expect(mysqlSsl(at('disable'))).toBeUndefined();
  });

  test('certificate errors are told apart from other connection errors', () => {
    expect(tlsFailure(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('wrong-host');
    expect(tlsFailure(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe('untrusted-certificate');
    // mysql2 renames the code; bqsync keeps Node's.
    expect(tlsFailure(Object.assign(new Error('unable to verify the first certificate'), { code: 'HANDSHAKE_SSL_ERROR', tlsCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).toBe(
      'untrusted-certificate',
    );
    expect(tlsFailure(new Error('The server does not support SSL connections'))).toBe('no-tls-at-server');
    expect(tlsFailure(Object.assign(new Error('Connections using insecure transport are prohibited'), { code: 'ER_SECURE_TRANSPORT_REQUIRED' }))).toBe('tls-required-by-server');
    const hba = 'no pg_hba.conf entry for host "10.0.0.5", user "bqsync", database "shop", no encryption';
    expect(tlsFailure(Object.assign(new Error(hba), { code: '28000' }))).toBe('tls-required-by-server');
    expect(tlsFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});

describe('the tls: block of a source', () => {
  const config = (tls: string) => `
bigquery: { project: p }
sources:
  shop:
    type: postgres
    url: \${SHOP_URL}
    tables: [orders]
    tls: ${tls}
pipelines: { nightly: { sources: [shop] } }
`;
  const load = (tls: string) => parseConfig(config(tls), 'bqsync.yaml');

  test('a CA file is read, a key from the environment only when the connection opens', () => {
    process.env.SHOP_TLS_KEY_TEST = '-----BEGIN PRIVATE KEY-----\\nK\\n-----END PRIVATE KEY-----';
    const loaded = load(`{ mode: verify-ca, caFile: ${caFile}, cert: "CERT", key: "\${SHOP_TLS_KEY_TEST}" }`);
    expect(loaded.config.sources.shop.tls!.key).toBe('${SHOP_TLS_KEY_TEST}');
    const settings = sourceTlsSettings('shop', loaded.config.sources.shop, loaded.file)!;
    expect(settings.mode).toBe('verify-ca');
    expect(settings.ca).toContain('BEGIN CERTIFICATE');
    expect(settings.key).toBe('-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----');
    delete process.env.SHOP_TLS_KEY_TEST;
  });

  test("the key's environment variable is redacted from the worker's log lines", () => {
    const loaded = load('{ certFile: /x/cert.pem, key: "${SHOP_TLS_KEY_LOG}" }');
    const redact = makeRedactor(loaded, { SHOP_TLS_KEY_LOG: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----' });
    expect(redact('key -----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY----- seen')).toBe('key <redacted> seen');
  });

  test('a key written in the file, an unknown mode, and half a client certificate are errors that say what to write', () => {
    expect(() => load('{ cert: C, key: "-----BEGIN PRIVATE KEY-----" }')).toThrow(
      'sources.shop.tls.key is written in the file; it is a secret: write key: ${SHOP_TLS_KEY}',
    );
    expect(() => load('{ mode: prefer }')).toThrow(/sources\.shop\.tls\.mode/);
    const half = load('{ certFile: /x/cert.pem }');
    expect(() => sourceTlsSettings('shop', half.config.sources.shop, half.file)).toThrow(ConfigError);
    const missing = load('{ caFile: /nonexistent/ca.pem }');
    expect(() => sourceTlsSettings('shop', missing.config.sources.shop, missing.file)).toThrow('sources.shop.tls.caFile: cannot read /nonexistent/ca.pem (ENOENT)');
  });
});
