/**
 * Three logins, three secrets: the migrate handler, run as the owner with the job and report
 * login secrets mocked, creates the two logins, and each can do what its function does and
 * nothing more. The local server trusts every login, so passwords are checked on their stored
 * SCRAM verifier (and the verifier against the pg driver's own SCRAM client, without a server).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { handler as incremental } from '../../functions/incremental/index.ts';
import { handler as migrateHandler } from '../../functions/migrate/index.ts';
import { handler as report } from '../../functions/report/index.ts';
import {
  LOGIN_SECRET_ENV,
  provisionLogins,
  READER_ROLE,
  scramVerifier,
  WRITER_ROLE,
} from '../../shared/db/logins.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import { serverUrl } from '../support/database.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import { fakeContext, handlerSuite, resetContainer, SECRET_ARN, secretFor } from './support.ts';

const JOB_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fifo-ledger-job-AbCdEf';
const REPORT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fifo-ledger-report-AbCdEf';
const INSUFFICIENT_PRIVILEGE = '42501';
const WRONG_OBJECT_TYPE = '42809';

/**
 * Why the migrations failed: node-pg-migrate rethrows the driver's error as a new Error that
 * quotes it ("Unable to ensure migrations table: error: permission denied for schema public"),
 * without its SQLSTATE.
 */
function refusal(error: Error): string {
  return /permission denied for [a-z]+ [a-z_.]+/.exec(error.message)?.[0] ?? error.message;
}

/** The pg driver's SCRAM client (what the functions log in with). */
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(mechanisms: string[]): { response: string };
  continueSession(session: object, password: string, serverData: string): Promise<void>;
  finalizeSession(session: object, serverData: string): void;
};

/**
 * Plays the server's side of a SCRAM-SHA-256 exchange from a stored verifier (RFC 5802 §3):
 * true when the client proved it knows the password and accepted the server's signature.
 */
async function authenticates(verifier: string, password: string): Promise<boolean> {
  const { createHash, createHmac } = await import('node:crypto');
  const [, iterations, salt, storedKey, serverKey] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(
    verifier,
  )!;
  const session = sasl.startSession(['SCRAM-SHA-256']);
  const clientFirstBare = session.response.slice('n,,'.length);
  const clientNonce = clientFirstBare.split('r=')[1]!;
  const serverFirst = `r=${clientNonce}${randomBytes(12).toString('base64')},s=${salt},i=${iterations}`;
  await sasl.continueSession(session, password, serverFirst);
  const clientFinal = session.response;
  const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
  const proof = Buffer.from(clientFinal.slice(clientFinal.lastIndexOf(',p=') + 3), 'base64');
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const stored = Buffer.from(storedKey!, 'base64');
  const signature = createHmac('sha256', stored).update(authMessage).digest();
  const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]!));
  if (!createHash('sha256').update(clientKey).digest().equals(stored)) return false;
  const serverSignature = createHmac('sha256', Buffer.from(serverKey!, 'base64'))
    .update(authMessage)
    .digest('base64');
  sasl.finalizeSession(session, `v=${serverSignature}`);
  return true;
}

describe('scramVerifier', () => {
  it('stores a verifier the pg driver authenticates against with the password, and no other', async () => {
    // Why: the logins' passwords travel as verifiers, never in clear; a wrong one would lock the functions out.
    // Prepare
    const passwords = ['AbC-9_x.generated,Like=SecretsManager', 'p\u00E4ss w\u00F6rd\u00A0\u00AD'];

    // Act
    const verifiers = passwords.map((password) => scramVerifier(password));

    // Assess
    for (const [i, verifier] of verifiers.entries()) {
      expect(verifier).toMatch(
        /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/,
      );
      expect(verifier).not.toContain(passwords[i]);
      expect(await authenticates(verifier, passwords[i]!)).toBe(true);
      expect(await authenticates(verifier, `${passwords[i]}x`)).toBe(false);
    }
    expect(scramVerifier(passwords[0]!)).not.toBe(verifiers[0]);
  });
});

describe('provisionLogins, before any query', () => {
  it('refuses reserved and duplicate login names before touching the database', async () => {
    // Why: a login named like a migration role (or twice) would merge privileges that must stay apart.
    // Prepare
    const queries: string[] = [];
    const client = {
      query: async (sql: string) => {
        queries.push(sql);
        throw new Error('the database was touched');
      },
    } as unknown as pg.ClientBase;
    const spec = (username: string, role: typeof WRITER_ROLE | typeof READER_ROLE) => ({
      username,
      password: 'x-password',
      role,
    });

    // Act
    const results = await Promise.all(
      [
        [spec(WRITER_ROLE, WRITER_ROLE)],
        [spec('pg_monitor', READER_ROLE)],
        [spec('fifo_ledger_job', WRITER_ROLE), spec('fifo_ledger_job', READER_ROLE)],
        [spec('x'.repeat(64), WRITER_ROLE)],
      ].map((specs) =>
        provisionLogins(client, specs).then(
          () => 'accepted',
          (error: Error) => error.message,
        ),
      ),
    );

    // Assess
    expect(results).toEqual([
      expect.stringContaining('reserved role name'),
      expect.stringContaining('reserved role name'),
      expect.stringContaining('named by two secrets'),
      expect.stringContaining('longer than 63 bytes'),
    ]);
    expect(queries).toEqual([]);
  });
});

describe('database logins: migrate as the owner, then each login', { tags: ['server'] }, () => {
  const suite = handlerSuite({ database: 'empty' });
  // Roles belong to the server, not to the test database: names of this run only.
  const run = randomBytes(4).toString('hex');
  const JOB = `fifo_ledger_job_${run}`;
  const REPORT = `fifo_ledger_report_${run}`;
  const created = new Set<string>([JOB, REPORT, `${JOB}_clone`, `fifo_bot_${run}`, `fifo_admin_${run}`]);
  const secrets = {
    job: { username: JOB, password: `job-${randomBytes(12).toString('base64url')}` },
    report: { username: REPORT, password: `report-${randomBytes(12).toString('base64url')}` },
  };
  const open: Database[] = [];

  beforeEach(() => {
    secrets.job = { username: JOB, password: `job-${randomBytes(12).toString('base64url')}` };
    secrets.report = { username: REPORT, password: `report-${randomBytes(12).toString('base64url')}` };
    vi.stubEnv(LOGIN_SECRET_ENV.job, JOB_ARN);
    vi.stubEnv(LOGIN_SECRET_ENV.report, REPORT_ARN);
    // Served afresh on every call, as Secrets Manager does after a rotation.
    suite.secrets
      .on(GetSecretValueCommand, { SecretId: JOB_ARN })
      .callsFake(() => ({ SecretString: secretFor(suite.db, secrets.job) }))
      .on(GetSecretValueCommand, { SecretId: REPORT_ARN })
      .callsFake(() => ({ SecretString: secretFor(suite.db, secrets.report) }));
  });
  // Runs before handlerSuite's (hooks unwind in reverse), while the test database still exists.
  afterAll(async () => {
    for (const db of open) await db.close();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    for (const role of created) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (!rowCount) continue;
      await suite.db.pool.query(`DROP OWNED BY ${role}`);
      await admin.query(`DROP ROLE ${role}`);
    }
    await admin.end();
  });

  /** A pool logged in as `role` (the local server trusts the login; production checks the password). */
  async function connectAs(role: string): Promise<Database> {
    const url = new URL(suite.db.url);
    url.username = role;
    const db = await openDatabase({ connectionString: url.toString(), max: 1 });
    open.push(db);
    return db;
  }

  async function roleState(role: string) {
    const { rows } = await suite.db.pool.query<{
      login: boolean;
      attributes: boolean[];
      member_of: string[];
      verifier: string | null;
    }>(
      `SELECT a.rolcanlogin AS login,
              ARRAY[a.rolsuper, a.rolcreaterole, a.rolcreatedb, a.rolreplication, a.rolbypassrls] AS attributes,
              coalesce((SELECT array_agg(r.rolname::text ORDER BY r.rolname) FROM pg_auth_members m
                        JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = a.oid), '{}') AS member_of,
              a.rolpassword AS verifier
       FROM pg_authid a WHERE a.rolname = $1`,
      [role],
    );
    return rows[0];
  }

  /** What a statement run as a login fails with ('ok' when it succeeds). */
  async function outcome(db: Database, sql: string): Promise<string> {
    try {
      await db.pool.query(sql);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  it('creates the job and report logins from their secrets, each a member of its role only', async () => {
    // Why: the functions must log in as least-privilege logins that the stack itself creates, not as the owner.
    // Prepare
    const context = fakeContext('migrate');

    // Act
    const result = await migrateHandler({}, context);

    // Assess
    expect(result.applied.length).toBeGreaterThan(0);
    expect(result.logins).toEqual([
      { username: JOB, role: WRITER_ROLE, action: 'created' },
      { username: REPORT, role: READER_ROLE, action: 'created' },
    ]);
    const job = await roleState(JOB);
    const reporter = await roleState(REPORT);
    expect(job).toMatchObject({ login: true, attributes: [false, false, false, false, false] });
    expect(reporter).toMatchObject({ login: true, attributes: [false, false, false, false, false] });
    expect(job?.member_of).toEqual([WRITER_ROLE]);
    expect(reporter?.member_of).toEqual([READER_ROLE]);
    expect(await authenticates(job!.verifier!, secrets.job.password)).toBe(true);
    expect(await authenticates(reporter!.verifier!, secrets.report.password)).toBe(true);
    // The owner's secret is read with the cache; the login secrets fresh: each once per run.
    const calls = suite.secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(calls.sort()).toEqual([JOB_ARN, REPORT_ARN, SECRET_ARN].sort());
    const output = JSON.stringify(suite.stdout.logs());
    expect(output).toContain(JOB);
    for (const secret of Object.values(secrets)) expect(output).not.toContain(secret.password);
  });

  it('sets the current passwords of the secrets on the next deploy, a rotation clone included, and nothing else', async () => {
    // Why: the trigger runs on every deploy; after a rotation it must follow the secret, never revert it.
    // Prepare
    await migrateHandler({}, fakeContext('migrate'));
    await resetContainer();
    // Multi-user rotation logs in as the master, creates <login>_clone and grants it the login.
    await suite.db.pool.query(`CREATE ROLE ${JOB}_clone LOGIN; GRANT ${JOB} TO ${JOB}_clone`);
    const before = await roleState(JOB);
    secrets.job = { username: `${JOB}_clone`, password: `rotated-${randomBytes(12).toString('base64url')}` };

    // Act
    const result = await migrateHandler({}, fakeContext('migrate', 'req-next-deploy'));

    // Assess
    expect(result.applied).toEqual([]);
    expect(result.logins).toEqual([
      { username: `${JOB}_clone`, role: WRITER_ROLE, action: 'updated' },
      { username: REPORT, role: READER_ROLE, action: 'updated' },
    ]);
    const clone = await roleState(`${JOB}_clone`);
    expect(clone?.member_of).toEqual([JOB, WRITER_ROLE].sort());
    expect(await authenticates(clone!.verifier!, secrets.job.password)).toBe(true);
    // The login the rotation moved away from keeps its password (AWSPREVIOUS still works).
    expect((await roleState(JOB))?.verifier).toBe(before?.verifier);
    expect(await authenticates((await roleState(REPORT))!.verifier!, secrets.report.password)).toBe(true);
  });

  it('gives the report login read access to the data and no write anywhere', async () => {
    // Why: the report only reads; a bug or a stolen report secret must not be able to change a row.
    // Prepare
    await migrateHandler({}, fakeContext('migrate'));
    await resetContainer();
    const reporter = await connectAs(REPORT);
    // Something to report: two trades of the last hour, allocated by a run as the job login.
    const hourAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await insertBotTrades(suite.db.pool, [
      { order_id: 'b1', symbol: 'BTC-USD', side: 'buy', order_time: hourAgo(60), price: '100', size: '2' },
      { order_id: 's1', symbol: 'BTC-USD', side: 'sell', order_time: hourAgo(30), price: '110', size: '1' },
    ]);
    vi.stubEnv(ENV.dbSecretArn, JOB_ARN);
    const built = await incremental({}, fakeContext('incremental'));
    await resetContainer();
    const { rows: relations } = await suite.db.pool.query<{ name: string; column: string }>(
      `SELECT c.relname AS name, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = 1) AS column
       FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'p')
       ORDER BY c.relname`,
    );

    // Act
    const writes: Record<string, string[]> = {};
    for (const { name, column } of relations) {
      writes[name] = [
        await outcome(reporter, `INSERT INTO public.${name} DEFAULT VALUES`),
        await outcome(reporter, `UPDATE public.${name} SET ${column} = ${column}`),
        await outcome(reporter, `DELETE FROM public.${name}`),
        await outcome(reporter, `TRUNCATE public.${name}`),
      ];
    }
    const ddl = [
      await outcome(reporter, 'CREATE TABLE public.report_scratch (x int)'),
      await outcome(reporter, 'ALTER TABLE public.fifo_allocations ADD COLUMN x int'),
      await outcome(reporter, 'DROP TABLE public.fifo_lots'),
    ];
    vi.stubEnv(ENV.dbSecretArn, REPORT_ARN);
    const reported = await report({ send: false }, fakeContext('report'));
    const { rows: read } = await reporter.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM public.fifo_allocations',
    );

    // Assess
    expect(relations.map((r) => r.name)).toEqual(
      expect.arrayContaining(['trade_records', 'fifo_allocations']),
    );
    for (const [name, codes] of Object.entries(writes)) {
      // TRUNCATE of a view is refused for what it is (wrong_object_type) before any privilege check.
      const truncate = name === 'fifo_trade_source' ? WRONG_OBJECT_TYPE : INSUFFICIENT_PRIVILEGE;
      expect(codes, name).toEqual([...Array(3).fill(INSUFFICIENT_PRIVILEGE), truncate]);
    }
    expect(ddl).toEqual(Array(3).fill(INSUFFICIENT_PRIVILEGE));
    // Logged in as the report login, the report still runs, over what the job login built.
    expect(built.tradesProcessed).toBe(2);
    expect(read).toEqual([{ n: 1 }]);
    expect(reported.verdict).toBeDefined();
    expect(JSON.stringify(suite.stdout.logs())).toContain(`as ${REPORT} (secret)`);
  });

  it('gives the job login exactly the privileges of fifo_ledger_writer and no schema change', async () => {
    // Why: the jobs write their own tables and the remaining_size mirror; nothing else, and never the schema.
    // Prepare
    await migrateHandler({}, fakeContext('migrate'));
    await resetContainer();
    const job = await connectAs(JOB);
    // migrations/0005_job-role.sql, 0008_bot-coexistence.sql, 0009_security.sql, 0010_partitioned-rebuild.sql.
    const readWrite = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
    const noDelete = ['SELECT', 'INSERT', 'UPDATE'];
    const expected: Record<string, string[]> = {
      trade_records: ['SELECT'],
      fifo_trade_source: ['SELECT'],
      fifo_allocations: readWrite,
      fifo_lots: readWrite,
      fifo_symbol_progress: readWrite,
      fifo_versions: readWrite,
      fifo_rejected_trades: readWrite,
      fifo_trade_changes: readWrite,
      fifo_mirror_writes: readWrite,
      fifo_computation_log: noDelete,
      fifo_rebuild_runs: noDelete,
      fifo_rebuild_partitions: noDelete,
      fifo_symbol_locks: noDelete,
    };
    const { rows } = await suite.db.pool.query<{ name: string; privileges: string[] }>(
      `SELECT c.relname AS name,
              coalesce(array_agg(p.privilege ORDER BY p.n) FILTER (WHERE has_table_privilege($1, c.oid, p.privilege)), '{}') AS privileges
       FROM pg_class c
       CROSS JOIN (VALUES (1, 'SELECT'), (2, 'INSERT'), (3, 'UPDATE'), (4, 'DELETE'), (5, 'TRUNCATE'),
                          (6, 'REFERENCES'), (7, 'TRIGGER')) AS p(n, privilege)
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'p')
       GROUP BY c.relname ORDER BY c.relname`,
      [JOB],
    );

    // Act
    const privileges = Object.fromEntries(rows.map((r) => [r.name, r.privileges]));
    const attempts = {
      createTable: await outcome(job, 'CREATE TABLE public.job_scratch (x int)'),
      alterTable: await outcome(job, 'ALTER TABLE public.fifo_allocations ADD COLUMN x int'),
      dropTable: await outcome(job, 'DROP TABLE public.fifo_lots'),
      truncate: await outcome(job, 'TRUNCATE public.fifo_allocations'),
      createRole: await outcome(job, 'CREATE ROLE job_made_role'),
      rewriteTrades: await outcome(job, 'UPDATE public.trade_records SET price = price'),
      readArchive: await outcome(job, 'SELECT * FROM public.fifo_legacy_pnl_archive'),
      writeArchive: await outcome(job, 'DELETE FROM public.fifo_legacy_pnl_archive'),
      eraseRunLog: await outcome(job, 'DELETE FROM public.fifo_computation_log'),
      mirror: await outcome(job, 'UPDATE public.trade_records SET remaining_size = remaining_size'),
    };
    vi.stubEnv(ENV.dbSecretArn, JOB_ARN);
    const runAsJob = await incremental({ scheduledTime: '2026-03-01T12:05:00Z' }, fakeContext('incremental'));

    // Assess
    for (const [name, granted] of Object.entries(privileges)) {
      expect(granted, name).toEqual(expected[name] ?? []);
    }
    expect(Object.keys(privileges)).toEqual(expect.arrayContaining(Object.keys(expected)));
    expect(attempts).toEqual({
      createTable: INSUFFICIENT_PRIVILEGE,
      alterTable: INSUFFICIENT_PRIVILEGE,
      dropTable: INSUFFICIENT_PRIVILEGE,
      truncate: INSUFFICIENT_PRIVILEGE,
      createRole: INSUFFICIENT_PRIVILEGE,
      rewriteTrades: INSUFFICIENT_PRIVILEGE,
      readArchive: INSUFFICIENT_PRIVILEGE,
      writeArchive: INSUFFICIENT_PRIVILEGE,
      eraseRunLog: INSUFFICIENT_PRIVILEGE,
      mirror: 'ok',
    });
    // Logged in as the job login, an incremental run still completes.
    expect(runAsJob.status).toBe('completed');
  });

  it.each([
    ['job', 'job'],
    ['report', 'report'],
  ] as const)('cannot run the migrations as the %s login', async (_name, which) => {
    // Why: only the owner changes the schema; a function's secret must be useless for that, even through the migrate code.
    // Prepare
    await migrateHandler({}, fakeContext('migrate'));
    await resetContainer();
    const login = await connectAs(secrets[which].username);
    const client = await login.pool.connect();
    vi.stubEnv(ENV.dbSecretArn, which === 'job' ? JOB_ARN : REPORT_ARN);
    vi.stubEnv(LOGIN_SECRET_ENV.job, '');
    vi.stubEnv(LOGIN_SECRET_ENV.report, '');

    // Act
    const direct = await migrate(client).then(() => 'ok', refusal);
    client.release();
    const handled = await migrateHandler({}, fakeContext('migrate', `req-as-${which}`)).then(
      () => 'ok',
      refusal,
    );

    // Assess
    // The migrations table is invisible to the login (no privilege on it), so node-pg-migrate
    // tries to create it, and the login may create nothing.
    expect(direct).toBe('permission denied for schema public');
    expect(handled).toBe('permission denied for schema public');
  });

  it('refuses a login secret that names the owner, an administrator or a user that owns objects, changing nothing', async () => {
    // Why: a misnamed secret must fail the deploy, not reset the password of the owner or of the bot's user.
    // Prepare
    await migrateHandler({}, fakeContext('migrate'));
    await resetContainer();
    const bot = `fifo_bot_${run}`;
    const admin = `fifo_admin_${run}`;
    await suite.db.pool.query(
      `CREATE ROLE ${bot} LOGIN; CREATE TABLE public.bot_table (x int); ALTER TABLE public.bot_table OWNER TO ${bot};
       CREATE ROLE ${admin} LOGIN CREATEROLE`,
    );
    const owner = JSON.parse(secretFor(suite.db)).username as string;
    const jobBefore = (await roleState(JOB))?.verifier;
    const attempt = async (reportUsername: string) => {
      secrets.job = { username: JOB, password: `changed-${randomBytes(8).toString('hex')}` };
      secrets.report = { username: reportUsername, password: 'would-be-set' };
      await resetContainer();
      return migrateHandler({}, fakeContext('migrate')).then(
        () => 'accepted',
        (error: Error) => `${error.name}: ${error.message}`,
      );
    };

    // Act
    const asOwner = await attempt(owner);
    const asBot = await attempt(bot);
    const asAdmin = await attempt(admin);

    // Assess
    expect(asOwner).toMatch(/^LoginProvisioningError: .*is the user running the migrations/);
    expect(asBot).toMatch(/^LoginProvisioningError: refusing to manage .*owns database objects/);
    expect(asAdmin).toMatch(/^LoginProvisioningError: refusing to manage .*CREATEROLE/);
    // One transaction: the job login, provisioned first, kept its password each time.
    expect((await roleState(JOB))?.verifier).toBe(jobBefore);
    expect((await roleState(bot))?.verifier).toBeNull();
  });
});
