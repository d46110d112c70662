/**
 * The deploy-time migration trigger: applies migrations/ (copied beside the bundle, found
 * through FIFO_MIGRATIONS_DIR) as the owner (FIFO_DB_SECRET_ARN), then provisions the
 * functions' logins from their secrets (shared/db/logins.ts): the job login, member of
 * fifo_ledger_writer, and the report login, member of fifo_ledger_reader. Idempotent; a
 * failure fails the deployment.
 *
 * The login secrets are read fresh on every run (never from the cache): the password set in the
 * database is the secret's current one, also just after a rotation. Without the two login
 * variables (a local run with DATABASE_URL) only the migrations run.
 */
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import {
  LOGIN_SECRET_ENV,
  type LoginSpec,
  provisionLogins,
  READER_ROLE,
  WRITER_ROLE,
} from '../../shared/db/logins.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { ConfigError } from '../../shared/jobs/index.ts';
import { METRICS } from '../commons/constants.ts';
import { withContainerPool } from '../commons/database.ts';
import { jobHandler, scheduledEventSchema } from '../commons/handler.ts';
import { emit } from '../commons/metrics.ts';

const loginSecretSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

export const handler = jobHandler('migrate', scheduledEventSchema, async ({ logger, metrics }) => {
  const loginSecrets = loginSecretArns();
  const { applied, logins } = await withContainerPool(logger, async (db) => {
    const client = await db.pool.connect();
    try {
      const result = await migrate(client, (line) => logger.info(line));
      if (!loginSecrets) return { ...result, logins: [] };
      const specs = await Promise.all([
        readLogin(loginSecrets.job, 'job', WRITER_ROLE),
        readLogin(loginSecrets.report, 'report', READER_ROLE),
      ]);
      return { ...result, logins: await provisionLogins(client, specs) };
    } finally {
      client.release();
    }
  });
  if (!loginSecrets) {
    logger.info(
      `${LOGIN_SECRET_ENV.job} and ${LOGIN_SECRET_ENV.report} are not set: migrations only, no logins provisioned`,
    );
  }
  for (const login of logins) {
    logger.info('database login provisioned', {
      username: login.username,
      role: login.role,
      action: login.action,
    });
    if (login.canCreateInPublic) {
      logger.warn(
        `login ${login.username} may create objects in schema public (PostgreSQL before 15 grants CREATE to PUBLIC); ` +
          'REVOKE CREATE ON SCHEMA public FROM PUBLIC if nothing else relies on it',
        { username: login.username },
      );
    }
  }
  emit(metrics, METRICS.migrationsApplied, applied.length);
  return { applied, logins: logins.map(({ username, role, action }) => ({ username, role, action })) };
});

function loginSecretArns(): { job: string; report: string } | undefined {
  // Unset or blank: not configured.
  const job = getStringFromEnv({ key: LOGIN_SECRET_ENV.job, defaultValue: '' });
  const report = getStringFromEnv({ key: LOGIN_SECRET_ENV.report, defaultValue: '' });
  if (!job && !report) return undefined;
  if (!job || !report) {
    throw new ConfigError(
      `set both ${LOGIN_SECRET_ENV.job} and ${LOGIN_SECRET_ENV.report}, or neither (got only ${job ? LOGIN_SECRET_ENV.job : LOGIN_SECRET_ENV.report})`,
    );
  }
  return { job, report };
}

async function readLogin(arn: string, which: 'job' | 'report', role: LoginSpec['role']): Promise<LoginSpec> {
  const text = await getSecret(arn, { forceFetch: true });
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    // JSON.parse quotes the text it failed on: never pass its message on.
    raw = undefined;
  }
  const parsed = loginSecretSchema.safeParse(raw);
  if (!parsed.success) {
    // Never echo the secret: name the fields that are wrong, not their values.
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new ConfigError(
      `the ${which} login secret (${LOGIN_SECRET_ENV[which]}) must be JSON with username and password; invalid: ${fields}`,
    );
  }
  return { username: parsed.data.username, password: parsed.data.password, role };
}
