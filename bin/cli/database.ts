/**
 * The database a command runs against: DATABASE_URL, or with none an embedded PostgreSQL
 * (PGlite) kept in FIFO_EMBEDDED_DIR (default ./.fifo-data), so the CLI works with no server.
 */
import type { EmbeddedPostgres } from '../../shared/db/embedded.ts';
import { type Database, redactUrl } from '../../shared/db/pool.ts';
import { CliError } from './errors.ts';

/**
 * Checks DATABASE_URL before anything connects, so a typo is one line naming the setting (with
 * the password hidden), never a driver's `getaddrinfo ENOTFOUND base`.
 */
export function checkDatabaseUrl(url: string): void {
  const shown = redactUrl(url);
  const expected = 'expected postgres://USER:PASSWORD@HOST:PORT/DATABASE';
  if (!/^postgres(ql)?:\/\//i.test(url.trim())) {
    throw new CliError(`DATABASE_URL is not a PostgreSQL URL: ${expected}, got "${shown}"`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new CliError(
      `DATABASE_URL is not a valid URL: ${expected}, with any of : / ? # @ in the user or password ` +
        `percent-encoded (%3A %2F %3F %23 %40); got "${shown}"`,
    );
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new CliError(`DATABASE_URL names no host: ${expected}, got "${shown}"`);
  }
}

/** A connection failure in the operator's words; the driver's own message otherwise. */
function connectError(description: string, error: Error): CliError {
  if (
    /client password must be a string|password authentication is required|no password (was )?supplied/i.test(
      error.message,
    )
  ) {
    return new CliError(
      `cannot connect to ${description}: the server asks for a password and DATABASE_URL has none; ` +
        'put it in the URL (postgres://USER:PASSWORD@HOST/DATABASE) or set PGPASSWORD',
    );
  }
  return new CliError(`cannot connect to ${description}: ${error.message}`);
}

export interface CliDatabase extends Database {
  /** Where it is, without the password. */
  readonly description: string;
  /** True when DATABASE_URL was unset and this is the embedded PostgreSQL, not the bot's. */
  readonly embedded: boolean;
}

export async function withDatabase<T>(
  work: (db: CliDatabase) => Promise<T>,
  options: {
    embeddedDir?: string | null;
    quiet?: boolean;
    migrate?: boolean;
    /**
     * 'current': fail with one line unless the schema is this fifo-ledger's (every command but
     * the ones that install or inspect it). @default 'current'
     */
    schema?: 'current' | 'any';
  } = {},
): Promise<T> {
  const url = process.env.DATABASE_URL;
  let embedded: EmbeddedPostgres | null = null;
  let connectionString: string;
  let description: string;
  if (url) {
    checkDatabaseUrl(url);
    connectionString = url;
    description = redactUrl(url);
  } else {
    const dir =
      options.embeddedDir === undefined
        ? (process.env.FIFO_EMBEDDED_DIR ?? '.fifo-data')
        : options.embeddedDir;
    const { startEmbeddedPostgres } = await import('../../shared/db/embedded.ts');
    embedded = await startEmbeddedPostgres(dir ?? undefined);
    connectionString = embedded.connectionString;
    description = dir
      ? `embedded PostgreSQL in ${dir} (no DATABASE_URL)`
      : 'embedded in-memory PostgreSQL (no DATABASE_URL)';
    if (!options.quiet) process.stderr.write(`fifo: using the ${description}\n`);
  }
  let db: Database;
  const { CLI_SESSION_LIMITS, openDatabase, withConnection } = await import('../../shared/db/pool.ts');
  try {
    // PGlite is a single session: one connection, which every user of the pool queues for.
    db = await openDatabase({
      connectionString,
      max: embedded ? 1 : 2,
      // PGlite is in this process: nothing else can hold its locks or leave it idle.
      session: embedded ? undefined : CLI_SESSION_LIMITS,
    });
  } catch (error) {
    await embedded?.stop();
    throw connectError(description, error as Error);
  }
  try {
    // The embedded database is fifo-ledger's own: keep its schema current without a step.
    if (embedded && options.migrate !== false) {
      const { migrate } = await import('../../shared/db/migrate.ts');
      await withConnection(db, migrate);
    }
    if ((options.schema ?? 'current') === 'current') {
      const { assertSchemaCurrent, SchemaNotReadyError } = await import('../../shared/db/schema-state.ts');
      try {
        await assertSchemaCurrent(db.pool);
      } catch (error) {
        if (error instanceof SchemaNotReadyError) throw new CliError(`${description}: ${error.message}`);
        throw error;
      }
    }
    return await work({ ...db, description, embedded: embedded !== null });
  } finally {
    await db.close();
    await embedded?.stop();
  }
}
