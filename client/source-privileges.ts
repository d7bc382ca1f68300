import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { quoteMysql } from '../sources/mysql/connection';

/**
 * The tables the connection cannot SELECT from. MySQL has no privilege function, so each
 * table gets a zero-row SELECT (cheap: LIMIT 0 reads nothing); PostgreSQL answers for all
 * tables in one has_table_privilege query.
 */
export async function tablesWithoutSelect(type: 'mysql' | 'postgres', url: string, schema: string | undefined, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  if (type === 'mysql') {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
    try {
      const [rows] = await conn.query('SELECT DATABASE() AS db');
      const db = schema ?? (rows as { db: string | null }[])[0].db ?? '';
      const denied: string[] = [];
      for (const table of tables) {
        try {
          await conn.query(`SELECT 1 FROM ${quoteMysql(db)}.${quoteMysql(table)} LIMIT 0`);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR') denied.push(table);
          else throw err;
        }
      }
      return denied;
    } finally {
      await conn.end().catch(() => undefined);
    }
  }
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    // has_table_privilege takes a qualified name; format('%I.%I') quotes both parts.
    const { rows } = await client.query(
      `SELECT t AS name FROM unnest($2::text[]) AS t
        WHERE NOT (has_schema_privilege($1::text, 'USAGE') AND has_table_privilege(format('%I.%I', $1::text, t), 'SELECT'))`,
      [schema ?? 'public', tables],
    );
    return rows.map((r: { name: string }) => r.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}
