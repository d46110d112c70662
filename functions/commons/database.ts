/**
 * One pg pool per Lambda container, created lazily on first use and reused by every
 * invocation the container serves.
 *
 * Credentials come from Secrets Manager through Powertools Parameters (cached for
 * FIFO_DB_SECRET_MAX_AGE_SECONDS). When the server rejects the password (the secret was
 * rotated under a warm container), the secret is fetched again with forceFetch, the pool is
 * rebuilt and the work is retried once. The jobs are idempotent (one advisory lock per
 * version, one transaction per batch), so the retry cannot duplicate anything.
 *
 * TLS is on and verified (hostname and chain). The Node.js 20+ Lambda runtimes no longer
 * trust the Amazon RDS CAs by default; the stack sets NODE_EXTRA_CA_CERTS to the runtime's
 * own Amazon CA bundle (/var/runtime/ca-cert.pem), which adds them to Node's default store.
 *
 * Local mode: with DATABASE_URL set, that connection string is used and Secrets Manager is
 * never called. FIFO_DB_TLS=off disables TLS, for a local test server only.
 */
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type pg from 'pg';
import { z } from 'zod';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import { ConfigError, type JobLogger } from '../../shared/jobs/index.ts';
import { DB_TLS_MODES, ENV } from './constants.ts';
import { getWholeNumberFromEnv } from './env.ts';

/** SQLSTATEs of a rejected login: invalid_password, invalid_authorization_specification. */
const AUTH_FAILURES = new Set(['28P01', '28000']);

/** How long a fetched secret is reused before Secrets Manager is asked again. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 900;

/** The RDS secret format; host, port and dbname may instead come from the environment. */
const secretSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  host: z.string().min(1).optional(),
  port: z.union([z.number().int(), z.string().regex(/^\d+$/)]).optional(),
  dbname: z.string().min(1).optional(),
});

export interface ConnectionSettings {
  readonly connectionString: string;
  readonly ssl: pg.ConnectionConfig['ssl'];
  /** Where it connects, without the password, for logs. */
  readonly description: string;
  readonly source: 'DATABASE_URL' | 'secret';
}

/** Where and how to connect, from the environment (and the secret). */
export async function resolveConnection(options: { forceFetch?: boolean } = {}): Promise<ConnectionSettings> {
  const tls = tlsMode();
  const url = optionalString(ENV.databaseUrl);
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // Node's ERR_INVALID_URL carries the whole input, password included: never pass it on.
      throw new ConfigError(
        `${ENV.databaseUrl} is not a valid URL (its value is not logged); fix it or unset it`,
      );
    }
    return {
      connectionString: url,
      ssl: sslOptions(tls, parsed.hostname),
      description: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname} (DATABASE_URL)`,
      source: 'DATABASE_URL',
    };
  }
  const secretArn = getStringFromEnv({ key: ENV.dbSecretArn });
  const maxAge = getWholeNumberFromEnv({
    key: ENV.secretMaxAgeSeconds,
    defaultValue: DEFAULT_SECRET_MAX_AGE_SECONDS,
  });
  const text = await getSecret(secretArn, { maxAge, forceFetch: options.forceFetch ?? false });
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    // JSON.parse quotes its input in its message: a pasted password would reach the log.
    throw new ConfigError('the database secret is not JSON; it must be {"username": ..., "password": ...}');
  }
  const parsed = secretSchema.safeParse(raw);
  if (!parsed.success) {
    // Never echo the secret: name the fields that are wrong, not their values.
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new ConfigError(`the database secret must be JSON with username and password; invalid: ${fields}`);
  }
  const secret = parsed.data;
  const host = optionalString(ENV.dbHost) ?? secret.host;
  if (!host) throw new ConfigError(`${ENV.dbHost} is not set and the database secret has no host`);
  const port = getWholeNumberFromEnv({
    key: ENV.dbPort,
    defaultValue: secret.port === undefined ? 5432 : Number(secret.port),
  });
  const database = optionalString(ENV.dbName) ?? secret.dbname ?? 'postgres';
  const connectionString = `postgres://${encodeURIComponent(secret.username)}:${encodeURIComponent(secret.password)}@${host}:${port}/${encodeURIComponent(database)}`;
  return {
    connectionString,
    ssl: sslOptions(tls, host),
    description: `${host}:${port}/${database} as ${secret.username} (secret)`,
    source: 'secret',
  };
}

/** A variable that may be unset; set but blank counts as unset. */
function optionalString(key: string): string | undefined {
  return getStringFromEnv({ key, defaultValue: '' }) || undefined;
}

function tlsMode(): (typeof DB_TLS_MODES)[number] {
  const mode = getStringFromEnv({ key: ENV.dbTls, defaultValue: 'verify-full' });
  const known = DB_TLS_MODES.find((allowed) => allowed === mode);
  if (!known) throw new ConfigError(`${ENV.dbTls} must be one of ${DB_TLS_MODES.join(', ')}, got "${mode}"`);
  return known;
}

function sslOptions(mode: (typeof DB_TLS_MODES)[number], host: string): pg.ConnectionConfig['ssl'] {
  if (mode === 'off') return false;
  // Verify the chain against Node's store (plus NODE_EXTRA_CA_CERTS) and the hostname.
  return { rejectUnauthorized: true, servername: host };
}

/** True when the server refused the credentials. */
export function isAuthFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && AUTH_FAILURES.has(code);
}

let current: Promise<Database> | null = null;

async function open(forceFetch: boolean, logger: JobLogger): Promise<Database> {
  const settings = await resolveConnection({ forceFetch });
  if (settings.ssl === false) logger.warn('database TLS is off (FIFO_DB_TLS=off): for local tests only');
  const db = await openDatabase({
    connectionString: settings.connectionString,
    ssl: settings.ssl,
    applicationName: 'fifo-ledger-lambda',
    session: {
      // 0 (unset): the server's default.
      statementTimeoutMs: getWholeNumberFromEnv({ key: ENV.dbStatementTimeoutMs, defaultValue: 0 }),
      lockTimeoutMs: getWholeNumberFromEnv({ key: ENV.dbLockTimeoutMs, defaultValue: 0 }),
      idleInTransactionTimeoutMs: getWholeNumberFromEnv({
        key: ENV.dbIdleInTransactionTimeoutMs,
        defaultValue: 0,
      }),
    },
  });
  logger.info('database pool opened', { database: settings.description, forceFetch });
  return db;
}

function connect(forceFetch: boolean, logger: JobLogger): Promise<Database> {
  const opening = open(forceFetch, logger);
  current = opening;
  // A failed open must not be cached: the next invocation tries again.
  opening.catch(() => {
    if (current === opening) current = null;
  });
  return opening;
}

/** The container's pool, opened on first use. */
export function getDatabase(logger: JobLogger): Promise<Database> {
  return current ?? connect(false, logger);
}

/** Closes the container's pool; the next use opens a new one. */
export async function closeDatabase(): Promise<void> {
  const closing = current;
  current = null;
  if (closing) await (await closing.catch(() => null))?.close().catch(() => {});
}

/**
 * Runs `work` on the container's pool. On an authentication failure the secret is fetched
 * again (bypassing the cache), the pool is rebuilt and `work` runs once more.
 */
export async function withContainerPool<T>(
  logger: JobLogger,
  work: (db: Database) => Promise<T>,
): Promise<T> {
  try {
    return await work(await getDatabase(logger));
  } catch (error) {
    if (!isAuthFailure(error)) throw error;
    logger.warn('database authentication failed; fetching the secret again and reconnecting', {
      code: (error as { code: string }).code,
    });
    await closeDatabase();
    return await work(await connect(true, logger));
  }
}
