/**
 * The database a command runs against: DATABASE_URL, or with none an embedded PostgreSQL
 * (PGlite) kept in FIFO_EMBEDDED_DIR (default ./.fifo-data), so the CLI works with no server.
 */
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../shared/db/embedded.ts';
import { migrate } from '../../shared/db/migrate.ts';
import {
  CLI_SESSION_LIMITS,
  type Database,
  openDatabase,
  redactUrl,
  withConnection,
} from '../../shared/db/pool.ts';
import { assertSchemaCurrent, SchemaNotReadyError } from '../../shared/db/schema-state.ts';
import { CliError } from './errors.ts';

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
    connectionString = url;
    description = redactUrl(url);
  } else {
    const dir =
      options.embeddedDir === undefined
        ? (process.env.FIFO_EMBEDDED_DIR ?? '.fifo-data')
        : options.embeddedDir;
    embedded = await startEmbeddedPostgres(dir ?? undefined);
    connectionString = embedded.connectionString;
    description = dir
      ? `embedded PostgreSQL in ${dir} (no DATABASE_URL)`
      : 'embedded in-memory PostgreSQL (no DATABASE_URL)';
    if (!options.quiet) process.stderr.write(`fifo: using the ${description}\n`);
  }
  let db: Database;
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
    throw new CliError(`cannot connect to ${description}: ${(error as Error).message}`);
  }
  try {
    // The embedded database is fifo-ledger's own: keep its schema current without a step.
    if (embedded && options.migrate !== false) {
      await withConnection(db, migrate);
    }
    if ((options.schema ?? 'current') === 'current') {
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
