import type { SourceFinding } from '../driver';
import { LAG_WARN_SECONDS, secondsText } from '../health-text';
import { EffectiveTls, tlsFinding } from '../tls';
import { quotePostgres } from './errors';

type Rows = <T>(query: string, params?: unknown[]) => Promise<T[]>;

/** The session reads every value as text (types.ts): a boolean is 'true' or 'false'. */
type Bool = string | boolean;
const yes = (v: Bool | null | undefined) => v === true || v === 't' || v === 'true';

/** This backend's TLS, as the server sees it. */
const OWN_SSL = 'SELECT ssl, version, cipher FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()';

/** The role's attributes; rds_superuser only where it exists (RDS, Aurora). */
const ROLE = `SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolbypassrls AS bypassrls,
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rds_superuser')
            THEN pg_catalog.pg_has_role(current_user, 'rds_superuser', 'MEMBER') ELSE false END AS rds_superuser
  FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`;

/** Tables of the schema this role could change, and whether it may create objects there. */
const WRITABLE = `SELECT c.relname AS name FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
   AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
 ORDER BY c.relname`;
const CREATE_IN_SCHEMA = `SELECT pg_catalog.has_schema_privilege($1::text, 'CREATE') AS can_create
  WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)`;

/**
 * The values a new session of this role gets (reset_val: after the role's and database's
 * own settings, before any SET), and whether the role or the database sets them.
 */
const SESSION_DEFAULTS = `SELECT s.name, s.reset_val AS value, s.unit,
       EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) AS c
                WHERE d.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
                  AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
                  AND c LIKE s.name || '=%') AS on_role,
       EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) AS c
                WHERE d.setrole = 0 AND d.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                  AND c LIKE s.name || '=%') AS on_database
  FROM pg_catalog.pg_settings s WHERE s.name IN ('statement_timeout', 'idle_in_transaction_session_timeout') ORDER BY s.name`;

const STANDBY = `SELECT pg_catalog.pg_is_in_recovery() AS standby,
       pg_catalog.current_setting('max_standby_streaming_delay') AS streaming_delay,
       pg_catalog.current_setting('hot_standby_feedback') AS feedback,
       EXTRACT(EPOCH FROM now() - pg_catalog.pg_last_xact_replay_timestamp())::float8 AS lag_seconds`;

/** What bqsync doctor reports of a PostgreSQL session reading `schema`. */
export async function postgresHealth(rows: Rows, schema: string, tls: EffectiveTls): Promise<SourceFinding[]> {
  const findings: SourceFinding[] = [];
  const [ssl] = await rows<{ ssl: Bool; version: string | null; cipher: string | null }>(OWN_SSL);
  findings.push(tlsFinding(yes(ssl?.ssl) ? { version: String(ssl.version), cipher: String(ssl.cipher) } : undefined, tls));
  const [role] = await rows<RoleRow>(ROLE);
  findings.push(...(await privilegeFindings(rows, schema, role)));
  findings.push(...settingFindings(role.role, await rows(SESSION_DEFAULTS)));
  findings.push(...standbyFindings((await rows<StandbyRow>(STANDBY))[0]));
  return findings;
}

interface RoleRow {
  role: string;
  superuser: Bool;
  createrole: Bool;
  bypassrls: Bool;
  rds_superuser: Bool;
}

async function privilegeFindings(
  rows: Rows,
  schema: string,
  role: RoleRow,
): Promise<SourceFinding[]> {
  const r = quotePostgres(role.role);
  const s = quotePostgres(schema);
  const advice =
    `a role that may only read is advised: CREATE ROLE bqsync_reader LOGIN PASSWORD '...'; GRANT USAGE ON SCHEMA ${s} TO bqsync_reader; ` +
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO bqsync_reader; ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO bqsync_reader`;
  const powers = [
    yes(role.superuser) && 'superuser',
    yes(role.rds_superuser) && 'member of rds_superuser',
    yes(role.createrole) && 'CREATEROLE',
    yes(role.bypassrls) && 'BYPASSRLS',
  ].filter(Boolean);
  if (powers.length > 0) {
    return [{ status: 'warn', topic: 'privileges', text: `role ${r} is ${powers.join(', ')}: it could change or delete anything the sync reads; ${advice}` }];
  }
  const writable = (await rows<{ name: string }>(WRITABLE, [schema])).map((t) => t.name);
  const [create] = await rows<{ can_create: Bool }>(CREATE_IN_SCHEMA, [schema]);
  const found: string[] = [];
  if (writable.length > 0) {
    const shown = writable.slice(0, 5).join(', ') + (writable.length > 5 ? `, ... (${writable.length} tables)` : '');
    found.push(`INSERT, UPDATE, DELETE or TRUNCATE on ${shown}`);
  }
  if (yes(create?.can_create)) found.push(`CREATE in schema ${s}`);
  if (found.length > 0) return [{ status: 'warn', topic: 'privileges', text: `role ${r} may write: ${found.join('; ')}; the sync needs only SELECT; ${advice}` }];
  return [{ status: 'ok', topic: 'privileges', text: `role ${r} may read the schema and write nothing in it` }];
}

interface SettingRow {
  name: string;
  value: string;
  unit: string | null;
  on_role: Bool;
  on_database: Bool;
}

const SETTING_EFFECT: Record<string, string> = {
  statement_timeout: 'a table is read by one statement: a read longer than this is cancelled',
  idle_in_transaction_session_timeout: "a read's transaction that waits longer than this between statements (a paused worker, key ranges) ends the session",
};

function settingFindings(role: string, settings: SettingRow[]): SourceFinding[] {
  return settings.map((s) => {
    const ms = Number(s.value) * (s.unit === 's' ? 1000 : s.unit === 'min' ? 60_000 : 1);
    if (!ms) return { status: 'ok', topic: 'settings', text: `${s.name} is off for role ${quotePostgres(role)}` };
    const fix = yes(s.on_role)
      ? `ALTER ROLE ${quotePostgres(role)} RESET ${s.name} (it is set on the role)`
      : yes(s.on_database)
        ? `ALTER DATABASE ... RESET ${s.name} (it is set on the database), or ALTER ROLE ${quotePostgres(role)} SET ${s.name} = 0`
        : `ALTER ROLE ${quotePostgres(role)} SET ${s.name} = 0 (it comes from the server's configuration or the RDS parameter group)`;
    return { status: 'warn', topic: 'settings', text: `${s.name} is ${secondsText(ms / 1000)} for role ${quotePostgres(role)}: ${SETTING_EFFECT[s.name]}; ${fix}` };
  });
}

interface StandbyRow {
  standby: Bool;
  streaming_delay: string;
  feedback: string;
  lag_seconds: string | null;
}

function standbyFindings(row: StandbyRow): SourceFinding[] {
  if (!yes(row.standby)) return [{ status: 'info', topic: 'replica', text: 'a primary (not in recovery): no replica lag, no recovery conflicts' }];
  const findings: SourceFinding[] = [];
  const unlimited = row.streaming_delay === '-1';
  const feedback = row.feedback === 'on';
  if (unlimited || feedback) {
    findings.push({
      status: 'ok',
      topic: 'replica',
      text: `a standby with ${unlimited ? 'max_standby_streaming_delay = -1' : 'hot_standby_feedback on'}: long reads are not cancelled by recovery conflicts`,
    });
  } else {
    findings.push({
      status: 'warn',
      topic: 'replica',
      text:
        `a standby with max_standby_streaming_delay = ${row.streaming_delay} and hot_standby_feedback off: a read longer than that is cancelled ` +
        "when the primary's VACUUM removes rows it still sees; turn hot_standby_feedback on, or raise max_standby_streaming_delay (-1: never cancel), " +
        "in the standby's configuration or the replica's RDS parameter group",
    });
  }
  if (row.lag_seconds === null) {
    findings.push({ status: 'warn', topic: 'replica', text: 'the standby has replayed no transaction since it started: its data may be old; check that replication runs' });
  } else {
    const seconds = Math.max(0, Number(row.lag_seconds));
    const lag = secondsText(seconds);
    findings.push(
      seconds > LAG_WARN_SECONDS
        ? { status: 'warn', topic: 'replica', text: `replica lag ${lag}: its last replayed transaction committed that long ago; the sync would copy data that old (a primary with no writes also makes this grow)` }
        : { status: 'ok', topic: 'replica', text: `replica lag ${lag}` },
    );
  }
  return findings;
}
