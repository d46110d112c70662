/** The container's connection: where the settings come from, TLS by default, and recovery from a rotated password. */
import type { ConnectionOptions } from 'node:tls';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { getDatabase, isAuthFailure, resolveConnection } from '../../functions/commons/database.ts';
import { handler } from '../../functions/incremental/index.ts';
import { openDatabase } from '../../shared/db/pool.ts';
import { silentLogger } from '../../shared/jobs/index.ts';
import { fakeContext, handlerEnvironment, handlerSuite, secretFor } from './support.ts';
import {
  type Certificate,
  PAST_HANDSHAKE,
  selfSignedCertificate,
  startTlsServer,
  type TlsServer,
} from './tls-server.ts';

describe('container database settings', () => {
  const suite = handlerEnvironment();

  it('verifies TLS by default: the certificate chain and the host name', async () => {
    // Prepare
    vi.stubEnv(ENV.dbTls, undefined);

    // Act
    const settings = await resolveConnection();

    // Assess
    expect(settings.ssl).toEqual({ rejectUnauthorized: true, servername: '127.0.0.1' });
    expect(settings.source).toBe('secret');
    expect(settings.description).not.toContain('not-checked-by-trust-auth');
  });

  it.each([
    [ENV.dbPort, '0', /^FIFO_DB_PORT must be a positive whole number, got "0"$/],
    [ENV.dbPort, '5432.5', /^FIFO_DB_PORT must be a positive whole number/],
    [
      ENV.secretMaxAgeSeconds,
      'soon',
      /^Environment variable FIFO_DB_SECRET_MAX_AGE_SECONDS must be a number$/,
    ],
    [ENV.dbTls, 'verify-ca', /^FIFO_DB_TLS must be one of verify-full, off, got "verify-ca"$/],
    [ENV.dbSecretArn, undefined, /^Environment variable FIFO_DB_SECRET_ARN is required$/],
  ])('fails on %s=%s in one line naming the variable', async (name, value, expected) => {
    // Prepare
    vi.stubEnv(name, value);

    // Act
    const failure = resolveConnection();

    // Assess
    await expect(failure).rejects.toThrow(expected);
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
    // Prepare
    vi.stubEnv(ENV.databaseUrl, 'postgres://postgres@localhost:5432/fifo');

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

describe('container database TLS, against a server with TLS on', () => {
  const suite = handlerEnvironment();
  let forLocalhost: Certificate;
  let forOtherHost: Certificate;
  let servers: TlsServer[] = [];

  beforeAll(async () => {
    [forLocalhost, forOtherHost] = await Promise.all([
      selfSignedCertificate('localhost'),
      selfSignedCertificate('db.example.invalid'),
    ]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  });

  /** Points DATABASE_URL at a new TLS server presenting `certificate`, with TLS verified. */
  async function serve(certificate: Certificate): Promise<TlsServer> {
    const server = await startTlsServer(certificate);
    servers.push(server);
    vi.stubEnv(ENV.dbTls, 'verify-full');
    vi.stubEnv(ENV.databaseUrl, `postgres://postgres@localhost:${server.port}/postgres`);
    return server;
  }

  /** The container's TLS settings, trusting `ca` besides Node's store, as NODE_EXTRA_CA_CERTS would. */
  async function openTrusting(ca: string) {
    const settings = await resolveConnection();
    const ssl = { ...(settings.ssl as ConnectionOptions), ca };
    return openDatabase({ connectionString: settings.connectionString, ssl });
  }

  it('refuses a server it cannot verify', async () => {
    // Why: the one thing between the functions and a server posing as RDS. The same client trusting the
    // certificate gets past the handshake, so the refusal is the certificate's, not a TLS or protocol fault.
    // Prepare
    const server = await serve(forLocalhost);

    // Act
    const refused = await getDatabase(silentLogger).catch((error: unknown) => error);
    const trusting = await openTrusting(forLocalhost.cert).catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(trusting).toMatchObject({ message: PAST_HANDSHAKE });
    expect(server.handshakes()).toBe(1);
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  it('refuses a trusted certificate issued for another host name', async () => {
    // Why: verify-full checks the name too; a certificate any trusted CA issued for another host is no proof.
    // Prepare
    const server = await serve(forOtherHost);

    // Act
    const trusting = await openTrusting(forOtherHost.cert).catch((error: unknown) => error);

    // Assess
    expect(trusting).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(server.handshakes()).toBe(0);
  });
});

describe('container database on a real server', { tags: ['server'] }, () => {
  const suite = handlerSuite({ resetTables: false });

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
});
