/**
 * TLS to the sources, and what `bqsync doctor` says of them, against a PostgreSQL primary,
 * its hot standby and a MariaDB server the test starts itself (test/helpers/tls-servers.ts),
 * with a CA and a server certificate made by the test. The certificate names 127.0.0.2 (a
 * server "on the network": verified by default) and not 127.0.0.1.
 *
 * Proves: a sync over verified TLS lands the rows, value by value, for both engines (the
 * CA from a bundle file, from the URL's sslrootcert, the default mode for a host that is not
 * local); a certificate for another host, or one signed by a CA the worker was not given,
 * fails the table at once (ConfigError, one attempt) with a message that names the source
 * and the setting to change, and doctor says the same for both engines; doctor reports TLS in use and verified, warns of sslmode
 * disable and require towards a server on the network, of roles that may write or
 * administer, of settings that cut long reads (a role's statement_timeout and
 * idle_in_transaction_session_timeout, a MariaDB user's max_statement_time, a short
 * wait_timeout), of administrators (MariaDB root, the postgres superuser) and of a standby
 * that cancels long reads, and reports its replica lag.
 */
import type { RunSummary } from '../../common/payloads';
import { summaryFromFailure } from '../../client/run-failure';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { bqRows, CliResult, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { startTlsServers, TlsServers } from '../helpers/tls-servers';

let servers: TlsServers;
let worker: RunningWorker;
let file: string;
let env: Record<string, string>;

const ROWS = [
  { id: 1, label: 'Zürich', amount: '12.5' },
  { id: 2, label: '東京', amount: '0.1' },
  { id: 3, label: null, amount: '99999999.99' },
];

function seed(s: TlsServers): void {
  s.mariadb(
    "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, label VARCHAR(40), amount DECIMAL(10,2));" +
      "INSERT INTO shop.orders VALUES (1, 'Zürich', 12.50), (2, '東京', 0.10), (3, NULL, 99999999.99);" +
      "CREATE USER reader@'%'; GRANT SELECT ON shop.* TO reader@'%';" +
      "CREATE USER hostile@'%' WITH MAX_STATEMENT_TIME 5; GRANT SELECT, INSERT ON shop.* TO hostile@'%';" +
      'SET GLOBAL wait_timeout = 20;',
  );
  s.psql(
    'CREATE TABLE orders (id int PRIMARY KEY, label text, amount numeric(10,2));' +
      "INSERT INTO orders VALUES (1, 'Zürich', 12.50), (2, '東京', 0.10), (3, NULL, 99999999.99);" +
      'CREATE ROLE reader LOGIN; GRANT SELECT ON orders TO reader;' +
      'CREATE ROLE hostile LOGIN; GRANT SELECT, INSERT ON orders TO hostile;' +
      "ALTER ROLE hostile SET statement_timeout = '1s'; ALTER ROLE hostile SET idle_in_transaction_session_timeout = '5s';",
  );
}

beforeAll(async () => {
  servers = await startTlsServers();
  console.log(`TLS servers (CA, primary, standby, MariaDB) up in ${servers.startedMs} ms`);
  seed(servers);
  const { pgPort, standbyPort, mysqlPort, caFile, decoyCaFile, bundleFile } = servers;
  env = {
    // No sslmode: verify-full, as for any host that is not local; the CA bundle from tls.caFile.
    TLS_SHOP_URL: `mysql://reader@127.0.0.2:${mysqlPort}/shop`,
    // libpq's spelling in the URL.
    TLS_BILLING_URL: `postgres://reader@127.0.0.2:${pgPort}/postgres?sslmode=verify-full&sslrootcert=${bundleFile}`,
    // The CA as PEM in an environment variable.
    TLS_STANDBY_URL: `postgres://reader@127.0.0.2:${standbyPort}/postgres`,
    TLS_CA_PEM: require('node:fs').readFileSync(caFile, 'utf8'),
    // MySQL's spelling; the certificate does not name 127.0.0.1.
    WRONG_HOST_URL: `mysql://reader@127.0.0.1:${mysqlPort}/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=${caFile}`,
    WRONG_CA_URL: `postgres://reader@127.0.0.2:${pgPort}/postgres`,
    // The other engine of each case, for doctor.
    PG_WRONG_HOST_URL: `postgres://reader@127.0.0.1:${pgPort}/postgres?sslmode=verify-full&sslrootcert=${caFile}`,
    MY_WRONG_CA_URL: `mysql://reader@127.0.0.2:${mysqlPort}/shop?sslrootcert=${decoyCaFile}`,
    PLAIN_URL: `mysql://reader@127.0.0.2:${mysqlPort}/shop?sslmode=disable`,
    HOSTILE_PG_URL: `postgres://hostile@127.0.0.2:${pgPort}/postgres?sslmode=require`,
    HOSTILE_MY_URL: `mysql://hostile@127.0.0.2:${mysqlPort}/shop`,
  };
  // Each source its own dataset: every one lists a table "orders".
  const pg = (url: string, extra: object = {}) => ({ type: 'postgres', url: `\${${url}}`, tables: ['orders'], dataset: `it_${url.toLowerCase()}`, ...extra });
  const my = (url: string, extra: object = {}) => ({ type: 'mysql', url: `\${${url}}`, tables: ['orders'], dataset: `it_${url.toLowerCase()}`, ...extra });
  file = writeConfig(
    testConfig(
      'it-tls',
      {
        shop_tls: my('TLS_SHOP_URL', { dataset: 'it_tls_shop', tls: { caFile: bundleFile } }),
        billing_tls: pg('TLS_BILLING_URL', { dataset: 'it_tls_billing' }),
        billing_standby: pg('TLS_STANDBY_URL', { tls: { ca: '${TLS_CA_PEM}' } }),
        shop_wrong_host: my('WRONG_HOST_URL'),
        billing_wrong_ca: pg('WRONG_CA_URL', { tls: { caFile: decoyCaFile } }),
        billing_wrong_host: pg('PG_WRONG_HOST_URL'),
        shop_wrong_ca: my('MY_WRONG_CA_URL'),
        shop_plain: my('PLAIN_URL'),
        billing_hostile: pg('HOSTILE_PG_URL'),
        shop_hostile: my('HOSTILE_MY_URL', { tls: { caFile: caFile } }),
        // The slot's shared servers, as the other tests use them: local, as root and postgres.
        local_shop: { type: 'mysql', url: '${TEST_MYSQL_URL}', dataset: 'it_tls_local_shop', discover: { include: ['x_tls_none_*'] } },
        local_billing: { type: 'postgres', url: '${TEST_POSTGRES_URL}', dataset: 'it_tls_local_billing', discover: { include: ['x_tls_none_*'] } },
      },
      {
        ittls: { sources: ['shop_tls', 'billing_tls'] },
        itmismatch: { sources: ['shop_wrong_host', 'billing_wrong_ca'] },
        itothers: { sources: ['billing_standby', 'billing_wrong_host', 'shop_wrong_ca', 'shop_plain', 'billing_hostile', 'shop_hostile', 'local_shop', 'local_billing'] },
      },
    ),
  );
  worker = await startWorker(file, env);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

/** The run's summary, from its failure when it failed. */
async function runSummary(pipeline: string): Promise<RunSummary> {
  const client = await temporalClient();
  try {
    return await client.workflow
      .getHandle(`bqsync-${pipeline}`)
      .result()
      .then(
        (r) => r as RunSummary,
        (e: unknown) => summaryFromFailure(e)!,
      );
  } finally {
    await client.connection.close();
  }
}

test('a sync over verified TLS lands every row, value by value, from MariaDB and PostgreSQL', async () => {
  const cli = await runCli(['--config', file, 'run', 'ittls', '--wait'], env);
  expect(cli.stdout).toContain('pipeline ittls: 2 succeeded, 0 failed, 0 skipped');
  for (const dataset of ['it_tls_shop', 'it_tls_billing']) {
    const rows = await bqRows(`SELECT id, label, CAST(amount AS STRING) AS amount FROM \`${BIGQUERY_PROJECT}.${dataset}.orders\` ORDER BY id`);
    expect(rows.map((r) => ({ id: Number(r.id), label: r.label, amount: r.amount }))).toEqual(ROWS);
  }
}, 120_000);

test('a certificate for another host, or from a CA not given, fails the table at once, naming the source and the fix', async () => {
  const started = Date.now();
  const cli: CliResult = await runCli(['--config', file, 'run', 'itmismatch', '--wait'], env);
  const seconds = (Date.now() - started) / 1000;
  expect(cli.stdout).toContain('pipeline itmismatch: 0 succeeded, 2 failed, 0 skipped');
  const byKey = Object.fromEntries((await runSummary('itmismatch')).results.map((r) => [r.key, r]));
  expect(byKey['shop_wrong_host.orders']).toMatchObject({ status: 'failed', errorType: 'ConfigError', runs: 1 });
  expect(byKey['billing_wrong_ca.orders']).toMatchObject({ status: 'failed', errorType: 'ConfigError', runs: 1 });
  expect(byKey['shop_wrong_host.orders'].error).toMatch(
    /^cannot connect to source "shop_wrong_host" \(mysql\): .*127\.0\.0\.1.*: the server's certificate was not issued to the host name in the URL \(sslmode verify-full\); connect by the name the certificate names .*or set mode: verify-ca in sources\.shop_wrong_host\.tls \(or the URL's sslmode \/ sslrootcert\)$/,
  );
  expect(byKey['billing_wrong_ca.orders'].error).toMatch(
    /^cannot connect to source "billing_wrong_ca" \(postgres\): .*: the server's certificate is not signed by a CA this worker trusts; give the CA bundle that signed it in sources\.billing_wrong_ca\.tls .*caFile: .*Amazon RDS and Aurora: https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem\)$/,
  );
  // Not retried (runs: 1 above): no backoff, no minutes of attempts; the time is a figure.
  console.log(`the mismatch run failed after ${seconds.toFixed(1)} s`);
}, 120_000);

/** doctor's lines for one source. */
function section(out: string, source: string): string {
  const start = out.indexOf(`Source ${source} (`);
  expect(start).toBeGreaterThanOrEqual(0);
  const rest = out.slice(start + 1);
  const end = rest.search(/\n(Source |BigQuery )/);
  return rest.slice(0, end < 0 ? undefined : end);
}

test('doctor reports TLS in use and verified, and warns of what should change', async () => {
  const cli = await runCli(['--config', file, 'doctor'], env);
  const out = cli.stdout;
  const verified = /ok {3}tls: TLS in use \(TLSv1\.[23], [A-Z0-9_-]+\); the server's certificate is verified: signed by a trusted CA and issued to the host connected to \(verify-full\)/;
  for (const source of ['shop_tls', 'billing_tls', 'billing_standby', 'shop_hostile']) expect(section(out, source)).toMatch(verified);
  // A user that may only SELECT.
  expect(section(out, 'shop_tls')).toContain("ok   privileges: user 'reader'@'%' has no write or administrative privilege on `shop` or the server");
  expect(section(out, 'billing_tls')).toContain('ok   privileges: role "reader" may read the schema and write nothing in it');
  expect(section(out, 'shop_tls')).toContain('info replica: cannot tell whether the server is a replica: SHOW REPLICA STATUS needs REPLICATION CLIENT');
  expect(section(out, 'billing_tls')).toContain('info replica: a primary (not in recovery)');
  // The server's wait_timeout of 20 s is raised by bqsync's own session settings.
  expect(section(out, 'shop_tls')).not.toContain('wait_timeout');

  // The standby: long reads cancelled by recovery conflicts, and its lag.
  const standby = section(out, 'billing_standby');
  expect(standby).toContain('warn replica: a standby with max_standby_streaming_delay = 30s and hot_standby_feedback off: a read longer than that is cancelled');
  expect(standby).toMatch(/ok {3}replica: replica lag \d+(\.\d)?s/);

  // Certificates that do not fit: the same messages as the sync's.
  expect(section(out, 'shop_wrong_host')).toMatch(/FAIL cannot connect to source "shop_wrong_host" \(mysql\): .*not issued to the host name in the URL/);
  expect(section(out, 'billing_wrong_ca')).toMatch(/FAIL cannot connect to source "billing_wrong_ca" \(postgres\): .*not signed by a CA this worker trusts/);
  expect(section(out, 'billing_wrong_host')).toMatch(/FAIL cannot connect to source "billing_wrong_host" \(postgres\): .*not issued to the host name in the URL/);
  expect(section(out, 'shop_wrong_ca')).toMatch(/FAIL cannot connect to source "shop_wrong_ca" \(mysql\): .*not signed by a CA this worker trusts/);

  // No TLS, or TLS without verification, to a server on the network.
  expect(section(out, 'shop_plain')).toContain('warn tls: no TLS to a server on the network (sslmode disable): the password and every row cross it in clear');
  expect(section(out, 'billing_hostile')).toMatch(/warn tls: TLS in use \(TLSv1\.[23], .*\), but the server's certificate is not verified \(sslmode require\)/);

  // Hostile roles: write privileges and settings that cut long reads, each with its fix.
  const pgHostile = section(out, 'billing_hostile');
  expect(pgHostile).toMatch(/warn privileges: role "hostile" may write: INSERT, UPDATE, DELETE or TRUNCATE on orders; the sync needs only SELECT; a role that may only read is advised: CREATE ROLE bqsync_reader/);
  expect(pgHostile).toContain(
    'info settings: statement_timeout is 1s for role "hostile": bqsync\'s reads set it to 0 inside their own transaction (SET LOCAL), so it cuts no read; to lift it for the role too: ALTER ROLE "hostile" RESET statement_timeout (it is set on the role)',
  );
  expect(pgHostile).toContain('info settings: idle_in_transaction_session_timeout is 5s for role "hostile"');
  const myHostile = section(out, 'shop_hostile');
  expect(myHostile).toContain("warn privileges: user 'hostile'@'%' has write privileges (INSERT) on `shop` or the whole server; the sync needs only SELECT");
  // The user's MAX_STATEMENT_TIME 5 is lifted by bqsync's own session settings.
  expect(myHostile).toContain("ok   settings: max_statement_time is off in bqsync's session");
  // The administrators the other tests connect as, on servers on this machine.
  expect(section(out, 'local_shop')).toContain('ok   tls: no TLS: the server is on this machine');
  expect(section(out, 'local_shop')).toMatch(/warn privileges: user 'root'@'[^']+' has administrative privileges \([^)]*SUPER[^)]*\) and write privileges/);
  expect(section(out, 'local_billing')).toContain('warn privileges: role "postgres" is superuser');
  // No secret of the URLs or the CA PEM in the output.
  expect(out).not.toContain('BEGIN CERTIFICATE');
}, 120_000);
