/**
 * Is this database at the schema this fifo-ledger needs? Every command but `migrate` and
 * `adopt --check` asks first, so a database that is not migrated, or migrated by an older or
 * newer fifo-ledger, gets one line saying what is missing and what to run, never a
 * `relation ... does not exist` from the middle of a job.
 */
import { readdirSync } from 'node:fs';
import type pg from 'pg';
import { migrationsDir } from './migrate.ts';

export class SchemaNotReadyError extends Error {
  override name = 'SchemaNotReadyError';
}

/** The migrations this fifo-ledger ships, by name (the file name without `.sql`), in order. */
export function shippedMigrations(dir: string = migrationsDir()): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.(sql|js|ts)$/.test(f))
    .map((f) => f.replace(/\.(sql|js|ts)$/, ''))
    .sort();
}

/** The tables the bot's programs create (test/fixtures/bot-schema.sql, docs/design.md §3.1): this is the bot's database. */
const BOT_TABLES = ['trade_records', 'fifo_allocations', 'fifo_computation_log'];

export async function assertSchemaCurrent(db: pg.Pool | pg.ClientBase): Promise<void> {
  const { rows } = await db.query<{ migrations: boolean; bot_tables: string[] }>(
    `SELECT to_regclass('fifo_ledger_migrations') IS NOT NULL AS migrations,
            ARRAY(SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL) AS bot_tables`,
    [BOT_TABLES],
  );
  const botTables = rows[0]!.bot_tables;
  const recorded = rows[0]!.migrations
    ? (await db.query<{ name: string }>('SELECT name FROM fifo_ledger_migrations ORDER BY name')).rows.map(
        (r) => r.name,
      )
    : null;
  if (recorded === null) {
    if (botTables.length > 0) {
      throw new SchemaNotReadyError(
        `this database has the bot's tables (${botTables.join(', ')}) but not fifo-ledger's schema: ` +
          'run: fifo adopt --check, then fifo migrate (docs/migration.md steps 1 and 2)',
      );
    }
    throw new SchemaNotReadyError(
      "fifo-ledger's schema is not installed in this database: run: fifo migrate",
    );
  }
  const shipped = shippedMigrations();
  const known = new Set(shipped);
  const unknown = recorded.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new SchemaNotReadyError(
      `this database was migrated by a newer fifo-ledger (${unknown.join(', ')} unknown here): ` +
        'upgrade fifo-ledger before running it against this database',
    );
  }
  const have = new Set(recorded);
  const missing = shipped.filter((name) => !have.has(name));
  if (missing.length > 0) {
    const at = recorded.at(-1) ?? 'none';
    throw new SchemaNotReadyError(
      `the schema is older than this fifo-ledger (at ${at}; missing ${missing.join(', ')}): run: fifo migrate`,
    );
  }
}
