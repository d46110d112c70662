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
}

/** A pool plus the server features the jobs adapt to. */
export interface Database {
  readonly pool: pg.Pool;
  /** COPY FROM STDIN works (a real server); false through PGlite's socket, which lacks it. */
  readonly supportsCopy: boolean;
  close(): Promise<void>;
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    ssl: config.ssl,
    max: config.max ?? 2,
    application_name: config.applicationName ?? 'fifo-ledger',
    idleTimeoutMillis: 60_000,
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => {});
  const { rows } = await pool.query<{ version: string }>('SELECT version() AS version');
  const supportsCopy = !/PGlite/i.test(rows[0]?.version ?? '');
  return { pool, supportsCopy, close: () => pool.end() };
}

/**
 * Describes a connection string without its password, for logs and errors: the password in
 * the user info (with or without a scheme) and a `password=` parameter are both masked.
 */
export function redactUrl(connectionString: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(connectionString)?.[0] ?? '';
  let rest = connectionString.slice(scheme.length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    const masked = colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:***`;
    rest = masked + rest.slice(at);
  }
  return (scheme + rest).replace(/([?&]password=)[^&#]*/gi, '$1***');
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
  client.release = (destroy?: boolean | Error) => {
    client.off('error', ignore);
    return release(destroy);
  };
  return client;
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
