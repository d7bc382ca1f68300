import type { SourceFinding } from '../driver';
import { errorCode } from '../connection-lost';
import { LAG_WARN_SECONDS, secondsText } from '../health-text';
import { EffectiveTls, tlsFinding } from '../tls';
import { quoteMysql } from './errors';

type Rows = <T>(query: string, params?: unknown[]) => Promise<T[]>;

/** Privileges that change data or the schema, or run the server: more than a read needs. */
const WRITE_PRIVILEGES = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX', 'TRIGGER', 'CREATE VIEW',
  'CREATE ROUTINE', 'ALTER ROUTINE', 'EVENT', 'DELETE HISTORY', 'CREATE TEMPORARY TABLES',
]);
const ADMIN_PRIVILEGES = new Set(['SUPER', 'FILE', 'SHUTDOWN', 'RELOAD', 'CREATE USER', 'GRANT OPTION', 'CREATE TABLESPACE']);
/** MySQL 8's dynamic admin privileges: SYSTEM_VARIABLES_ADMIN, CONNECTION_ADMIN, ... */
const isAdmin = (p: string) => ADMIN_PRIVILEGES.has(p) || p.endsWith('_ADMIN');

/** The account's grants: global (USER_PRIVILEGES) and on the schema read (SCHEMA_PRIVILEGES). */
const GLOBAL_GRANTS = 'SELECT PRIVILEGE_TYPE AS p, IS_GRANTABLE AS g FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?';
const SCHEMA_GRANTS = 'SELECT PRIVILEGE_TYPE AS p, IS_GRANTABLE AS g FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?';

/** Session values of the settings that cut long reads; each server has some of them. */
const READ_LIMITS = `SHOW SESSION VARIABLES WHERE Variable_name IN
  ('net_write_timeout', 'wait_timeout', 'max_execution_time', 'max_statement_time')`;

/** What bqsync doctor reports of a MySQL/MariaDB session reading database `schema`. */
export async function mysqlHealth(rows: Rows, schema: string, tls: EffectiveTls): Promise<SourceFinding[]> {
  const status = new Map(
    (await rows<{ Variable_name: string; Value: string }>("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")).map((r) => [r.Variable_name, r.Value]),
  );
  const cipher = status.get('Ssl_cipher');
  const findings = [tlsFinding(cipher ? { version: status.get('Ssl_version') ?? '?', cipher } : undefined, tls)];
  findings.push(await privilegeFinding(rows, schema));
  const limits = new Map((await rows<{ Variable_name: string; Value: string }>(READ_LIMITS)).map((r) => [r.Variable_name, Number(r.Value)]));
  findings.push(...limitFindings(limits));
  findings.push(...(await replicaFindings(rows)));
  return findings;
}

/** CURRENT_USER() is user@host; information_schema names the grantee 'user'@'host'. */
function grantee(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  return `'${currentUser.slice(0, at)}'@'${currentUser.slice(at + 1)}'`;
}

async function privilegeFinding(rows: Rows, schema: string): Promise<SourceFinding> {
  const [{ u }] = await rows<{ u: string }>('SELECT CURRENT_USER() AS u');
  const who = grantee(u);
  const grants = [...(await rows<{ p: string; g: string }>(GLOBAL_GRANTS, [who])), ...(await rows<{ p: string; g: string }>(SCHEMA_GRANTS, [who, schema]))];
  const granted = new Set(grants.map((g) => g.p.toUpperCase()));
  if (grants.some((g) => g.g === 'YES')) granted.add('GRANT OPTION');
  const admin = [...granted].filter(isAdmin).sort();
  const writes = [...granted].filter((p) => WRITE_PRIVILEGES.has(p)).sort();
  const advice =
    `a user that may only read is advised: CREATE USER 'bqsync_reader'@'%' IDENTIFIED BY '...'; GRANT SELECT ON ${quoteMysql(schema)}.* TO 'bqsync_reader'@'%' ` +
    '(and REPLICATION CLIENT, MariaDB: SLAVE MONITOR, for the replica check)';
  if (admin.length > 0 || writes.length > 0) {
    const what = [admin.length ? `administrative privileges (${admin.join(', ')})` : '', writes.length ? `write privileges (${writes.join(', ')})` : '']
      .filter(Boolean)
      .join(' and ');
    return { status: 'warn', topic: 'privileges', text: `user ${who} has ${what} on ${quoteMysql(schema)} or the whole server; the sync needs only SELECT; ${advice}` };
  }
  return { status: 'ok', topic: 'privileges', text: `user ${who} has no write or administrative privilege on ${quoteMysql(schema)} or the server` };
}

function limitFindings(limits: Map<string, number>): SourceFinding[] {
  const findings: SourceFinding[] = [];
  const where = 'SET GLOBAL, or the RDS/Aurora parameter group';
  const netWrite = limits.get('net_write_timeout');
  if (netWrite !== undefined) {
    findings.push(
      netWrite < 300
        ? {
            status: 'warn',
            topic: 'settings',
            text: `net_write_timeout is ${netWrite}s in bqsync's session: the server drops a streamed read the worker has paused longer than that (writing a batch, a slow disk); raise it to 600 or more (${where})`,
          }
        : { status: 'ok', topic: 'settings', text: `net_write_timeout is ${netWrite}s in bqsync's session` },
    );
  }
  // MySQL: milliseconds, SELECTs only. MariaDB: seconds, every statement (also per user: MAX_STATEMENT_TIME).
  for (const [name, seconds] of [
    ['max_execution_time', (limits.get('max_execution_time') ?? 0) / 1000],
    ['max_statement_time', limits.get('max_statement_time') ?? 0],
  ] as const) {
    if (!limits.has(name)) continue;
    findings.push(
      seconds > 0
        ? {
            status: 'warn',
            topic: 'settings',
            text: `${name} is ${secondsText(seconds)} in bqsync's session: a table is read by one SELECT, and a read longer than this is cancelled; set it to 0 for bqsync's user (${where})`,
          }
        : { status: 'ok', topic: 'settings', text: `${name} is off in bqsync's session` },
    );
  }
  const wait = limits.get('wait_timeout');
  if (wait !== undefined && wait < 60) {
    findings.push({
      status: 'warn',
      topic: 'settings',
      text: `wait_timeout is ${wait}s: the server closes a connection idle that long, and a sync's connection waits while it plans; raise it to 60 or more (${where})`,
    });
  }
  return findings;
}

interface ReplicaRow {
  Seconds_Behind_Master?: number | string | null;
  Seconds_Behind_Source?: number | string | null;
}

/** SHOW REPLICA STATUS (MySQL 8.0.22+, MariaDB 10.5+), else the older SHOW SLAVE STATUS. */
async function replicaFindings(rows: Rows): Promise<SourceFinding[]> {
  let status: ReplicaRow[];
  try {
    status = await rows<ReplicaRow>('SHOW REPLICA STATUS').catch((err) => {
      if (errorCode(err) === 'ER_PARSE_ERROR') return rows<ReplicaRow>('SHOW SLAVE STATUS');
      throw err;
    });
  } catch (err) {
    if (/ACCESS_DENIED/.test(errorCode(err))) {
      return [
        {
          status: 'info',
          topic: 'replica',
          text: 'cannot tell whether the server is a replica: SHOW REPLICA STATUS needs REPLICATION CLIENT (MariaDB: SLAVE MONITOR); grant it to see replica lag here',
        },
      ];
    }
    throw err;
  }
  if (status.length === 0) {
    return [{ status: 'info', topic: 'replica', text: 'not a replica (no replication configured; an Aurora reader replicates in storage and shows none)' }];
  }
  const lags = status.map((r) => r.Seconds_Behind_Source ?? r.Seconds_Behind_Master ?? null);
  if (lags.some((l) => l === null)) {
    return [{ status: 'warn', topic: 'replica', text: 'a replica whose replication is stopped (Seconds_Behind_Master is NULL): its data does not change; START REPLICA, or read the replica\'s error log' }];
  }
  const lag = Math.max(...lags.map(Number));
  return [
    lag > LAG_WARN_SECONDS
      ? { status: 'warn', topic: 'replica', text: `replica lag ${secondsText(lag)} (Seconds_Behind_Master): the sync would copy data that old` }
      : { status: 'ok', topic: 'replica', text: `a replica, ${secondsText(lag)} behind its primary` },
  ];
}
