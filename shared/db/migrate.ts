/** Applies migrations/ with node-pg-migrate. Idempotent: applied files are recorded. */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

/** The migrations folder beside the sources, or FIFO_MIGRATIONS_DIR (the Lambda bundle). */
export function migrationsDir(): string {
  return process.env.FIFO_MIGRATIONS_DIR ?? fileURLToPath(new URL('../../migrations', import.meta.url));
}

export interface MigrationResult {
  /** Names of the migrations applied by this call; empty when the database was current. */
  readonly applied: string[];
}

export async function migrate(
  client: pg.ClientBase,
  log: (line: string) => void = () => {},
): Promise<MigrationResult> {
  const applied = await runner({
    dbClient: client,
    dir: migrationsDir(),
    direction: 'up',
    migrationsTable: 'fifo_ledger_migrations',
    checkOrder: true,
    log,
    logger: { debug: () => {}, info: log, warn: log, error: log },
  });
  return { applied: applied.map((m) => m.name) };
}
