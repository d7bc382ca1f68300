import { TEST_DATABASE } from './env';
import { mysqlConnection, postgresClient } from './harness';

/** Creates small tables `name` with `rows` rows in both test databases, replacing old ones. */
export async function createSmallTables(names: string[], rows = 10): Promise<void> {
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    for (const name of names) {
      await my.query(`DROP TABLE IF EXISTS \`${name}\``);
      await my.query(`CREATE TABLE \`${name}\` (id INT PRIMARY KEY, label VARCHAR(20))`);
      await my.query(`INSERT INTO \`${name}\` SELECT seq, CONCAT('row ', seq) FROM seq_1_to_${rows}`);
      await pg.query(`DROP TABLE IF EXISTS "${name}"`);
      await pg.query(`CREATE TABLE "${name}" (id int PRIMARY KEY, label text)`);
      await pg.query(`INSERT INTO "${name}" SELECT s, 'row ' || s FROM generate_series(1, ${rows}) s`);
    }
  } finally {
    await my.end();
    await pg.end();
  }
}

/**
 * Holds write locks on tables, so that bqsync's extraction queries block and stay visible
 * in the process list: a real way to keep table syncs "running" for as long as a test needs.
 */
export async function lockTables(names: string[], which: { mysql?: boolean; postgres?: boolean } = { mysql: true, postgres: true }) {
  const my = which.mysql ? await mysqlConnection() : undefined;
  const pg = which.postgres ? await postgresClient() : undefined;
  await my?.query(`LOCK TABLES ${names.map((n) => `\`${n}\` WRITE`).join(', ')}`);
  if (pg) {
    await pg.query('BEGIN');
    await pg.query(`LOCK TABLE ${names.map((n) => `"${n}"`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  }
  return async () => {
    await my?.query('UNLOCK TABLES');
    await my?.end();
    await pg?.query('COMMIT');
    await pg?.end();
  };
}

/**
 * bqsync extraction queries running now in this slot's test database, per source engine
 * (other slots' test runs extract from their own databases at the same time).
 */
export async function runningExtractions(): Promise<{ mysql: number; postgres: number }> {
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    const [rows] = await my.query(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%bqsync:extract%' AND INFO NOT LIKE '%PROCESSLIST%'",
      [TEST_DATABASE],
    );
    const p = await pg.query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%bqsync:extract%' AND state = 'active' AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%'",
      [TEST_DATABASE],
    );
    return { mysql: Number((rows as { n: string }[])[0].n), postgres: Number(p.rows[0].n) };
  } finally {
    await my.end();
    await pg.end();
  }
}
