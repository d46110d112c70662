/** The container's connection: where the settings come from, TLS by default, and recovery from a rotated password. */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { getDatabase, isAuthFailure, resolveConnection } from '../../functions/commons/database.ts';
import { handler } from '../../functions/incremental/index.ts';
import { silentLogger } from '../../shared/jobs/index.ts';
import { needsServer } from '../support/database.ts';
import { fakeContext, handlerSuite, secretFor } from './support.ts';

describe.skipIf(needsServer)('container database connection', () => {
  const suite = handlerSuite({ resetTables: false });

  it('verifies TLS by default: the certificate chain and the host name', async () => {
    // Why: RDS must be reached over verified TLS; only an explicit FIFO_DB_TLS=off (local tests) turns it off.
    // Prepare
    vi.stubEnv(ENV.dbTls, '');

    // Act
    const settings = await resolveConnection();

    // Assess
    const host = new URL(suite.db.url).hostname;
    expect(settings.ssl).toEqual({ rejectUnauthorized: true, servername: host });
    expect(settings.source).toBe('secret');
    expect(settings.description).not.toContain('not-checked-by-trust-auth');
  });

  it('refuses a server it cannot verify', async () => {
    // Why: with TLS on, a server without a trusted certificate (here: no TLS, or a self-signed one) is an error.
    // Prepare
    vi.stubEnv(ENV.dbTls, 'verify-full');

    // Act
    const opening = getDatabase(silentLogger);

    // Assess
    await expect(opening).rejects.toThrow(/SSL|certificate/i);
  });

  it('takes host, port and database from the environment over the secret', async () => {
    // Why: an existing database's secret often holds only username and password; the stack sets the endpoint.
    // Prepare
    suite.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: 'u', password: 'p' }) });
    vi.stubEnv(ENV.dbHost, 'bot-db.abc.eu-west-1.rds.amazonaws.com');
    vi.stubEnv(ENV.dbPort, '6432');
    vi.stubEnv(ENV.dbName, 'bot');

    // Act
    const settings = await resolveConnection();

    // Assess
    expect(settings.connectionString).toBe('postgres://u:p@bot-db.abc.eu-west-1.rds.amazonaws.com:6432/bot');
  });

  it('uses DATABASE_URL without calling Secrets Manager (local mode)', async () => {
    // Why: local runs and tests must work with no AWS at all.
    // Prepare
    vi.stubEnv(ENV.databaseUrl, suite.db.url);

    // Act
    const settings = await resolveConnection();

    // Assess
    expect(settings.source).toBe('DATABASE_URL');
    expect(settings.ssl).toBe(false);
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  it('names the bad fields of a malformed secret without echoing its values', async () => {
    // Why: a configuration error must be fixable from the log, and must never leak the password there.
    // Prepare
    suite.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ user: 'x', password: 'hunter2-secret' }) });

    // Act
    const error = await resolveConnection().catch((e: unknown) => e as Error);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/invalid: username/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('fetches the secret again and reconnects when the server rejects the credentials', async () => {
    // Why: after a rotation a warm container holds a stale password; one refetch (forceFetch) must recover.
    // Prepare
    suite.secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: secretFor(suite.db, { username: 'rotated_away_user' }) })
      .resolves({ SecretString: secretFor(suite.db) });

    // Act
    const result = await handler({}, fakeContext('incremental', 'req-rotated'));

    // Assess
    expect(result.status).toBe('completed');
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    const warning = suite.stdout
      .logs()
      .find((l) => String(l.message).startsWith('database authentication failed'));
    expect(warning).toMatchObject({ level: 'WARN', code: '28000' });
  });

  it('recognises rejected logins by SQLSTATE', () => {
    // Why: only authentication failures (28P01 wrong password, 28000 not authorized) justify a refetch.
    // Prepare
    const errors = [{ code: '28P01' }, { code: '28000' }, { code: '57P01' }, new Error('timeout'), null];

    // Act
    const verdicts = errors.map(isAuthFailure);

    // Assess
    expect(verdicts).toEqual([true, true, false, false, false]);
  });
});
