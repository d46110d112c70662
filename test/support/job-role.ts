/**
 * Connecting as the least-privilege job role (migrations/0005_job-role.sql): a login role
 * made for the test database, member of fifo_ledger_writer and of nothing else.
 */
import { randomBytes } from 'node:crypto';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import type { TestDatabase } from './database.ts';

export interface JobRoleDatabase extends Database {
  readonly role: string;
  readonly url: string;
  /** Closes the pool and drops the login role. */
  drop(): Promise<void>;
}

export async function connectAsJobRole(admin: TestDatabase): Promise<JobRoleDatabase> {
  const role = `fifo_job_${randomBytes(5).toString('hex')}`;
  await admin.pool.query(`CREATE ROLE ${role} LOGIN IN ROLE fifo_ledger_writer`);
  const url = new URL(admin.url);
  url.username = role;
  url.password = '';
  const db = await openDatabase({ connectionString: url.toString(), max: 2 });
  return {
    ...db,
    role,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.pool.query(`DROP OWNED BY ${role}`);
      await admin.pool.query(`DROP ROLE ${role}`);
    },
  };
}
