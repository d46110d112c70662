/**
 * An embedded PostgreSQL (PGlite, in WebAssembly) served on a local TCP port through
 * pglite-socket, so the jobs run the same `pg` code path as against a real server.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** @param dataDir a directory to keep the data in; in memory when omitted */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  const db = await PGlite.create(dataDir);
  // One connection at a time: PGlite is a single session, and the multiplexer would mix
  // the transactions of concurrent connections.
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    connectionString: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
