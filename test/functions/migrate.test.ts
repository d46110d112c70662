/** The migration handler the deploy trigger invokes: an empty database gets the schema, a current one nothing. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it, vi } from 'vitest';
import { METRICS, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/migrate/index.ts';
import { LOGIN_SECRET_ENV } from '../../shared/db/logins.ts';
import { DEPLOYMENT, fakeContext, handlerEnvironment, handlerSuite } from './support.ts';

const MIGRATIONS = readdirSync(fileURLToPath(new URL('../../migrations', import.meta.url)))
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

describe('migrate handler, before any query', () => {
  const suite = handlerEnvironment();

  it('refuses half a login configuration before touching the database', async () => {
    // Why: with one login secret the other function would keep a login nobody provisions; the deploy must say so.
    // Prepare
    vi.stubEnv(LOGIN_SECRET_ENV.job, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:job-AbCdEf');
    vi.stubEnv(LOGIN_SECRET_ENV.report, '');

    // Act
    const failure = await handler({}, fakeContext('migrate')).catch((error: Error) => error);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(
      `set both ${LOGIN_SECRET_ENV.job} and ${LOGIN_SECRET_ENV.report}, or neither (got only ${LOGIN_SECRET_ENV.job})`,
    );
    // The owner's secret is what a connection starts with: never read, nothing was connected to.
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });
});

describe('migrate handler', { tags: ['server'] }, () => {
  const suite = handlerSuite({ database: 'empty' });

  it('applies every migration on the first deploy, and none on the next', async () => {
    // Why: the trigger runs on every deploy.
    // Prepare
    const context = fakeContext('migrate');

    // Act
    const first = await handler(undefined, context);
    const second = await handler({}, fakeContext('migrate', 'req-again'));

    // Assess
    expect(first.applied).toEqual(MIGRATIONS);
    expect(second.applied).toEqual([]);
    // No login secrets configured (a local run): migrations only (logins.test.ts has the rest).
    expect(first.logins).toEqual([]);
    const applied = suite.stdout.metrics().filter((m) => m.name === METRICS.migrationsApplied.name);
    expect(applied.map((m) => m.values)).toEqual([[MIGRATIONS.length], [0]]);
    expect(applied[0]?.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    const { rows } = await suite.db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = 'fifo_allocations'`,
    );
    expect(rows[0]?.n).toBe('1');
  });
});
