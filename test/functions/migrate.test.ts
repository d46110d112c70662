/** The migration handler the deploy trigger invokes: an empty database gets the schema, a current one nothing. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRICS, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/migrate/index.ts';
import { needsServer } from '../support/database.ts';
import { DEPLOYMENT, fakeContext, handlerSuite } from './support.ts';

const MIGRATIONS = readdirSync(fileURLToPath(new URL('../../migrations', import.meta.url)))
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

describe.skipIf(needsServer)('migrate handler', () => {
  const suite = handlerSuite({ database: 'empty' });

  it('applies every migration on the first deploy, and none on the next', async () => {
    // Why: the trigger runs on every deploy; a second run on a current schema must be a no-op, not a failure.
    // Prepare
    const context = fakeContext('migrate');

    // Act
    const first = await handler(undefined, context);
    const second = await handler({}, fakeContext('migrate', 'req-again'));

    // Assess
    expect(first.applied).toEqual(MIGRATIONS);
    expect(second.applied).toEqual([]);
    const applied = suite.stdout.metrics().filter((m) => m.name === METRICS.migrationsApplied.name);
    expect(applied.map((m) => m.values)).toEqual([[MIGRATIONS.length], [0]]);
    expect(applied[0]?.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    const { rows } = await suite.db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = 'fifo_allocations'`,
    );
    expect(rows[0]?.n).toBe('1');
  });
});
