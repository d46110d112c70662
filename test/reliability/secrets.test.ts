/**
 * Secrets never reach the logs: the Lambda handlers, on success and on every
 * way of failing to connect or to run, and the operator CLI. Everything written to stdout,
 * stderr or the console, and every error a handler throws (the Lambda runtime logs it), is
 * searched for the database password and the connection string.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { logger } from '../../functions/commons/powertools.ts';
import { handler as fullRebuildHandler } from '../../functions/full-rebuild/index.ts';
import { handler as incrementalHandler } from '../../functions/incremental/index.ts';
import { handler as migrateHandler } from '../../functions/migrate/index.ts';
import { handler as reportHandler } from '../../functions/report/index.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import {
  fakeContext,
  resetContainer,
  SECRET_ARN,
  secretFor,
  useHandlerEnvironment,
} from '../functions/support.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

/** A password no log line could contain by chance, with characters a URL must encode. */
const TOKEN = randomBytes(8).toString('hex');
const PASSWORD = `Zq7/p@ss:${TOKEN}#%&!`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every form the password could take in a log: raw, URL-encoded, JSON-escaped, or just its core. */
function leaks(text: string, connectionStrings: readonly string[] = []): string[] {
  const forms = [PASSWORD, encodeURIComponent(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1), TOKEN];
  return [...forms, ...connectionStrings].filter((form) => text.includes(form));
}

/** Everything the code under test prints: stdout, stderr and the console (vitest intercepts it). */
function captureOutput() {
  const chunks: string[] = [];
  const record = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(record),
    vi.spyOn(process.stderr, 'write').mockImplementation(record),
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        record(`${args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' ')}\n`);
      }),
    ),
  ];
  return {
    text: () => chunks.join(''),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** What the Lambda runtime would log for a thrown error, and more: every property, nested. */
const errorText = (error: unknown) =>
  `${inspect(error, { depth: 8, showHidden: true })}\n${JSON.stringify(error)}\n${(error as Error)?.stack ?? ''}`;

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const SCHEDULED = { scheduledTime: '2026-03-01T12:05:00Z', attempt: '1' };

describe('secrets in logs', () => {
  let deadPort: number;
  /** Stands in for a test database where the test fails before connecting: only its url is read. */
  let nowhere: TestDatabase;

  beforeAll(async () => {
    deadPort = await closedPort();
    nowhere = { url: `postgres://postgres@127.0.0.1:${deadPort}/postgres` } as TestDatabase;
  });
  afterAll(async () => {
    await resetContainer();
  });

  describe('the Lambda handlers', () => {
    let secrets: ReturnType<typeof useHandlerEnvironment>;
    let output: ReturnType<typeof captureOutput>;

    beforeEach(async () => {
      await resetContainer();
      secrets = useHandlerEnvironment(nowhere);
      vi.stubEnv(ENV.reportSender, '');
      vi.stubEnv(ENV.reportRecipients, '');
      // Everything a handler can say, debug lines included.
      logger.setLogLevel('DEBUG');
      output = captureOutput();
    });
    afterEach(async () => {
      output.restore();
      secrets.restore();
      logger.setLogLevel('INFO');
      vi.unstubAllEnvs();
      await resetContainer();
    });

    /**
     * Runs the incremental handler, which must fail with `expected`; neither its log nor its
     * error may carry the connection string's credentials.
     */
    async function expectFailureWithoutLeaks(connectionString: string, expected: RegExp): Promise<void> {
      const error = await incrementalHandler(SCHEDULED, fakeContext('incremental')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(expected);
      const text = output.text();
      expect(text).toContain('incremental failed');
      expect(leaks(text, [connectionString])).toEqual([]);
      expect(leaks(errorText(error), [connectionString])).toEqual([]);
    }

    /** Serves this secret (the test database's, with the distinctive password and these changes). */
    function serveSecret(target: TestDatabase, overrides: Record<string, unknown> = {}): string {
      const secret = secretFor(target, { password: PASSWORD, ...overrides });
      secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: secret });
      const s = JSON.parse(secret) as Record<string, string | number>;
      return `postgres://${encodeURIComponent(String(s.username))}:${encodeURIComponent(PASSWORD)}@${s.host}:${s.port}/${s.dbname}`;
    }

    describe('failing before they connect', () => {
      it.each([
        ['connection refused', () => ({ port: deadPort }), /ECONNREFUSED/],
        ['a host that makes the connection string unparseable', () => ({ host: 'a:b:c' }), /Invalid URL/],
      ] as const)('log neither when the connection fails: %s', async (_name, overrides, expected) => {
        // Why: a failure logs the error with every property; a driver error must not carry the credentials.
        // Prepare
        const connectionString = serveSecret(nowhere, overrides());

        // Act and Assess
        await expectFailureWithoutLeaks(connectionString, expected);
      });

      it('log neither when DATABASE_URL is not a valid URL', async () => {
        // Why: Node's ERR_INVALID_URL carries the whole input in its "input" field, which the logger printed.
        // Prepare
        vi.stubEnv(ENV.databaseUrl, `postgres://postgres:${PASSWORD}@[not-a-host/postgres`);

        // Act
        const error = await incrementalHandler(SCHEDULED, fakeContext('incremental')).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as Error).message).toMatch(/DATABASE_URL is not a valid URL/);
        expect(leaks(output.text())).toEqual([]);
        expect(leaks(errorText(error))).toEqual([]);
      });

      it('log neither when the secret is malformed', async () => {
        // Why: the validation error names the bad fields; it must not echo the secret it could not use.
        // Prepare
        secrets
          .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
          .resolves({ SecretString: JSON.stringify({ user: 'fifo', password: PASSWORD, port: 'x' }) });

        // Act
        const error = await incrementalHandler(SCHEDULED, fakeContext('incremental')).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as Error).message).toMatch(/invalid: username/);
        expect(leaks(output.text())).toEqual([]);
        expect(leaks(errorText(error))).toEqual([]);
      });

      it('log neither when the secret is not JSON at all (a pasted password)', async () => {
        // Why: JSON.parse quotes its input in its error message, which the handler logged.
        // Prepare
        secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: PASSWORD });

        // Act
        const error = await incrementalHandler(SCHEDULED, fakeContext('incremental')).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as Error).message).toMatch(/the database secret is not JSON/);
        expect(leaks(output.text())).toEqual([]);
        expect(leaks(errorText(error))).toEqual([]);
      });
    });

    describe('on a database', { tags: 'server' }, () => {
      let db: TestDatabase;
      let unmigrated: TestDatabase;

      beforeAll(async () => {
        db = await createTestDatabase();
        unmigrated = await createEmptyDatabase();
        await insertTrades(db.pool, [...generateTrades({ trades: 200, symbols: 2, seed: 5 })]);
      });
      afterAll(async () => {
        await resetContainer();
        await unmigrated?.drop();
        await db?.drop();
      });

      it('log neither the password nor the connection string when every handler succeeds', async () => {
        // Why: the success path logs the most (pool opened, results, EMF) and runs every 5 minutes.
        // Prepare
        const connectionString = serveSecret(db);

        // Act
        const results = [
          await migrateHandler({}, fakeContext('migrate')),
          await fullRebuildHandler(SCHEDULED, fakeContext('full-rebuild')),
          await incrementalHandler(SCHEDULED, fakeContext('incremental')),
          await reportHandler(SCHEDULED, fakeContext('report')),
        ];

        // Assess
        expect(results[1]).toMatchObject({ status: 'completed' });
        expect(results[2]).toMatchObject({ status: 'completed' });
        const text = output.text();
        expect(text).toContain('database pool opened');
        expect(text).toContain('incremental finished');
        expect(leaks(text, [connectionString])).toEqual([]);
      });

      it.each([
        [
          'an unknown user (an authentication failure: refetch, retry, fail)',
          { username: 'no_such_user' },
          /no_such_user/,
        ],
        ['an unknown database', { dbname: 'no_such_database' }, /no_such_database/],
      ] as const)('log neither when the connection fails: %s', async (_name, overrides, expected) => {
        // Prepare
        const connectionString = serveSecret(db, overrides);

        // Act and Assess
        await expectFailureWithoutLeaks(connectionString, expected);
      });

      it('log neither when TLS verification fails', async () => {
        // Why: production verifies TLS; the refusal names the problem, never the credentials.
        // Prepare
        const connectionString = serveSecret(db);
        vi.stubEnv(ENV.dbTls, 'verify-full');

        // Act
        const error = await fullRebuildHandler(SCHEDULED, fakeContext('full-rebuild')).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as Error).message).toMatch(/SSL|TLS|certificate/i);
        expect(leaks(output.text(), [connectionString])).toEqual([]);
        expect(leaks(errorText(error), [connectionString])).toEqual([]);
      });

      it('log neither when the run fails after connecting', async () => {
        // Why: a query error carries SQL and parameters; neither may include the credentials.
        // Prepare: a database without fifo-ledger's schema.
        const connectionString = serveSecret(unmigrated);

        // Act
        const error = await incrementalHandler(SCHEDULED, fakeContext('incremental')).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as Error).message).toMatch(/does not exist/);
        expect(leaks(output.text(), [connectionString])).toEqual([]);
        expect(leaks(errorText(error), [connectionString])).toEqual([]);
      });
    });
  });

  describe('the CLI', () => {
    const run = promisify(execFile);

    /** Runs `node bin/fifo.js ...args` with this DATABASE_URL; returns exit code and all output. */
    async function fifo(url: string, ...args: string[]): Promise<{ code: number; output: string }> {
      try {
        const { stdout, stderr } = await run(process.execPath, ['bin/fifo.js', ...args], {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: url },
          timeout: 30_000,
        });
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
      }
    }

    /** The test database's URL with the distinctive password (the local server trusts, so it still connects). */
    const withPassword = (url: string, port?: number) => {
      const parsed = new URL(url);
      parsed.username ||= 'postgres';
      parsed.password = encodeURIComponent(PASSWORD);
      if (port !== undefined) parsed.port = String(port);
      return parsed.toString();
    };

    // Two forms that once leaked through redactUrl: a password= parameter and a URL without scheme.
    it('redacts a password given as a query parameter (?password=)', async () => {
      // Why: libpq and node-postgres both take ?password=; redactUrl masks only the user-info part.
      // Prepare
      const url = `postgres://postgres@127.0.0.1:${deadPort}/postgres?password=${encodeURIComponent(PASSWORD)}`;

      // Act
      const result = await fifo(url, 'health');

      // Assess
      expect(result.code).toBe(1);
      expect(leaks(result.output, [url])).toEqual([]);
    });

    it('redacts a password with unencoded /, #, ? and : and a key=value connection string', async () => {
      // Why: redaction once stopped at the first / # or ? and printed "postgres:***@ss:w/rd@...".
      // Prepare
      const raw = `postgres://postgres:${PASSWORD}@127.0.0.1:${deadPort}/postgres`;
      const keyValue = `host=127.0.0.1 port=${deadPort} user=postgres password=${TOKEN}/x#y dbname=postgres`;

      // Act
      const results = await Promise.all([fifo(raw, 'health'), fifo(keyValue, 'health')]);

      // Assess
      for (const result of results) {
        expect(result.code).toBe(1);
        expect(result.output).not.toMatch(/^\s+at /m);
        expect(leaks(result.output, [raw, keyValue])).toEqual([]);
      }
    });

    it('redacts a DATABASE_URL pasted without its postgres:// scheme', async () => {
      // Why: "user:password@host/db" parses as a URL with scheme "user:" and no password, so it is printed whole.
      // Prepare
      const url = `postgres:${TOKEN}@127.0.0.1:${deadPort}/postgres`;

      // Act
      const result = await fifo(url, 'health');

      // Assess
      expect(result.code).toBe(1);
      expect(leaks(result.output, [url])).toEqual([]);
    });

    describe('on a database', { tags: 'server' }, () => {
      let db: TestDatabase;

      beforeAll(async () => {
        db = await createTestDatabase();
        await insertTrades(db.pool, [...generateTrades({ trades: 200, symbols: 2, seed: 5 })]);
        // Built, as the handlers leave it: `fifo health` reports on a version that exists.
        await runFullRebuild(db, { version: 1 });
      });
      afterAll(async () => {
        await db?.drop();
      });

      it('prints the connection without its password, whether it connects or not', async () => {
        // Why: operators paste CLI output into tickets; a DATABASE_URL password must be redacted there.
        // Prepare
        const good = withPassword(db.url);
        const wrongPort = withPassword(db.url, deadPort);

        // Act
        const [refused, refusedJson, health, full, incremental] = await Promise.all([
          fifo(wrongPort, 'health'),
          fifo(wrongPort, 'incremental', '--json'),
          fifo(good, 'health'),
          fifo(good, 'full', '--json'),
          fifo(good, 'incremental'),
        ]);

        // Assess
        expect(refused.code).toBe(1);
        expect(refused.output).toMatch(
          /cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: connect ECONNREFUSED/,
        );
        expect(refusedJson.code).toBe(1);
        for (const result of [health, full, incremental]) expect(result.code, result.output).toBe(0);
        expect(health.output).toContain('abandoned runs:');
        for (const result of [refused, refusedJson, health, full, incremental]) {
          expect(leaks(result.output, [good, wrongPort])).toEqual([]);
        }
      });
    });
  });
});
