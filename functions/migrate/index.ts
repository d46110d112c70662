/**
 * The deploy-time migration trigger: applies migrations/ (copied beside the bundle, found
 * through FIFO_MIGRATIONS_DIR). Idempotent; a failure fails the deployment.
 */
import { migrate } from '../../shared/db/migrate.ts';
import { METRICS } from '../commons/constants.ts';
import { withDatabase } from '../commons/database.ts';
import { jobHandler, scheduledEventSchema } from '../commons/handler.ts';
import { emit } from '../commons/metrics.ts';

export const handler = jobHandler('migrate', scheduledEventSchema, async ({ logger, metrics }) => {
  const { applied } = await withDatabase(logger, async (db) => {
    const client = await db.pool.connect();
    try {
      return await migrate(client, (line) => logger.info(line));
    } finally {
      client.release();
    }
  });
  emit(metrics, METRICS.migrationsApplied, applied.length);
  return { applied };
});
