/** Connections: one pg pool per process (per Lambda container), and what the server can do. */
import pg from 'pg';

export interface DatabaseConfig {
  /** postgres://user:password@host:port/database */
  readonly connectionString: string;
  /** TLS options; undefined means whatever the connection string says (e.g. sslmode). */
  readonly ssl?: pg.ConnectionConfig['ssl'];
  /** Pool size. @default 2 (the jobs use one connection; one spare for health reads) */
  readonly max?: number;
  readonly applicationName?: string;
  /**
   * How long a checkout may wait for a connection, in milliseconds, before it fails: a pool
   * that is exhausted fails the run instead of hanging it. @default CONNECT_TIMEOUT_MS
   */
  readonly connectTimeoutMs?: number;
  /** Limits every session of the pool sets at its start. @default none (server defaults) */
  readonly session?: SessionLimits;
}

/**
 * PostgreSQL's own guards against a session that hangs: a statement that never ends, a lock
 * that is never granted, a transaction left open by a client that went away. In milliseconds;
 * 0 or absent leaves the server's setting.
 */
export interface SessionLimits {
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly idleInTransactionTimeoutMs?: number;
}

export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The CLI's limits (README, "Timeouts"): no statement limit (a first build of a long history
 * may run for many minutes), a minute for a lock (the bot's writes hold row locks for
 * milliseconds), ten minutes for a transaction left idle.
 */
export const CLI_SESSION_LIMITS: SessionLimits = {
  lockTimeoutMs: 60_000,
  idleInTransactionTimeoutMs: 600_000,
};

/** A pool plus the server features the jobs adapt to. */
export interface Database {
  readonly pool: pg.Pool;
  /** COPY FROM STDIN works (a real server); false through PGlite's socket, which lacks it. */
  readonly supportsCopy: boolean;
  /**
   * A connection of its own, outside the pool, with the same settings: for recording that a run
   * failed even when the run's own connections hold the whole pool. The caller ends it.
   */
  openSession(): Promise<pg.Client>;
  close(): Promise<void>;
  /** How it was opened: a worker thread opens its own pool with the same settings. */
  readonly config: DatabaseConfig;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const limits = config.session ?? {};
  const clientConfig: pg.ClientConfig = {
    connectionString: config.connectionString,
    ssl: config.ssl,
    application_name: config.applicationName ?? 'fifo-ledger',
    connectionTimeoutMillis: config.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs } : {}),
    ...(limits.lockTimeoutMs ? { lock_timeout: limits.lockTimeoutMs } : {}),
    ...(limits.idleInTransactionTimeoutMs
      ? { idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs }
      : {}),
  };
  const pool = new pg.Pool({ ...clientConfig, max: config.max ?? 2, idleTimeoutMillis: 60_000 });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => {});
  const { rows } = await pool.query<{ version: string }>('SELECT version() AS version');
  const supportsCopy = !/PGlite/i.test(rows[0]?.version ?? '');
  const openSession = async () => {
    const client = new pg.Client(clientConfig);
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  return { pool, supportsCopy, openSession, close: () => pool.end(), config };
}

/**
 * Describes a connection string without its password, for logs and errors. Every form
 * node-postgres and libpq take is covered:
 * - a URL, whose password may hold an unencoded `/`, `#`, `?`, `:` or `@`: everything from
 *   the first `:` of the user info to the last `@` is masked (when a query value holds an `@`,
 *   more is masked, never less);
 * - a URL pasted without its scheme (`user:password@host/db`);
 * - a `password=` query parameter, and a `key=value` string (`host=... password='...'`).
 */
export function redactUrl(connectionString: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(connectionString)?.[0] ?? '';
  let rest = connectionString.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) rest = `${userInfo.slice(0, colon)}:***${rest.slice(at)}`;
  }
  return (scheme + rest)
    .replace(/([?&]password=)[^&#]*/gi, '$1***')
    .replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'&*][^\s&]*)/gi, '$1***');
}

/** The password a connection string carries, in every form it could be printed in. */
function passwordForms(connectionString: string): string[] {
  const forms = new Set<string>();
  const masked = redactUrl(connectionString);
  // What redactUrl masked is the password: recover it by aligning the two strings.
  let i = 0;
  while (i < masked.length && masked[i] === connectionString[i]) i++;
  const star = masked.indexOf('***', i - 3 < 0 ? 0 : i - 3);
  if (star >= 0) {
    const tail = masked.slice(star + 3);
    const end = connectionString.length - tail.length;
    const raw = connectionString.slice(star, end).replace(/^'|'$/g, '');
    if (raw.length >= 4) {
      forms.add(raw);
      try {
        forms.add(decodeURIComponent(raw));
      } catch {
        // not URL-encoded
      }
      forms.add(encodeURIComponent(raw));
    }
  }
  return [...forms];
}

/**
 * Masks the connection string and its password wherever they appear in a text (an error
 * message from the driver or Node may quote either).
 */
export function redactSecrets(text: string, connectionString: string | undefined): string {
  if (!connectionString) return text;
  let out = text.split(connectionString).join(redactUrl(connectionString));
  for (const form of passwordForms(connectionString)) out = out.split(form).join('***');
  return out;
}

/**
 * Checks out a connection for a job. A checked-out client that loses its server emits
 * 'error'; without a listener that would crash the process, while the query in flight
 * already rejects with the same error, which is where the job handles it.
 */
export async function acquire(db: Database): Promise<pg.PoolClient> {
  const client = await db.pool.connect();
  const ignore = () => {};
  client.on('error', ignore);
  const release = client.release.bind(client);
  let released = false;
  // Idempotent: a run that failed destroys its connections at once (see discard), and the
  // finally blocks that release them afterwards must not throw.
  client.release = (destroy?: boolean | Error) => {
    if (released) return;
    released = true;
    client.off('error', ignore);
    return release(destroy);
  };
  return client;
}

/**
 * Closes a checked-out connection instead of returning it to the pool. After an error it may
 * be mid-COPY or inside an open transaction, and the next run would wait on it for as long as
 * it is allowed; closed, the server rolls its transaction back and frees its locks.
 */
export function discard(client: pg.PoolClient): void {
  client.release(true);
}

/** Runs `work` on one connection checked out with `acquire`, released however `work` ends. */
export async function withConnection<T>(
  db: Database,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await acquire(db);
  try {
    return await work(client);
  } finally {
    client.release();
  }
}
