/**
 * Helpers for the handler tests: a fake Lambda context, the handlers' environment with the
 * database secret served by a mocked Secrets Manager, stdout capture (Powertools writes its
 * JSON logs and EMF metrics there), and the alarm metrics of a synthesized stack.
 */
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Context } from 'aws-lambda';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { closeDatabase } from '../../functions/commons/database.ts';
import { FifoLedgerStack, parseConfig } from '../../lib/index.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';
import { resetTables } from '../support/fixtures.ts';

/** The stack the handler tests compare their metrics with; its name is the deployment dimension. */
export const TEST_STACK_CONTEXT = {
  reportSender: 'FIFO Reports <reports@example.com>',
  reportRecipients: 'ops@example.com',
  alarmEmail: 'alarms@example.com',
};
export const DEPLOYMENT = parseConfig(TEST_STACK_CONTEXT).stackName;
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fifo-ledger-db-AbCdEf';

/** A Lambda context as the runtime passes it. */
export function fakeContext(functionName: string, requestId = `req-${functionName}-1`): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The secret as RDS writes it, pointing at a test database (trust auth ignores the password). */
export function secretFor(db: Pick<TestDatabase, 'url'>, overrides: Record<string, unknown> = {}): string {
  const url = new URL(db.url);
  return JSON.stringify({
    engine: 'postgres',
    username: decodeURIComponent(url.username) || 'postgres',
    password: 'not-checked-by-trust-auth',
    host: url.hostname,
    port: Number(url.port || 5432),
    dbname: url.pathname.slice(1),
    ...overrides,
  });
}

/** Where no PostgreSQL listens (port 1): a handler that reaches for it fails at once. */
const NO_DATABASE = { url: 'postgres://postgres@127.0.0.1:1/none' };

/**
 * The environment the stack gives the functions, minus TLS (the local server has none), with
 * Secrets Manager mocked to serve `db`'s credentials (without `db`, credentials for a server
 * that is not there). Returns the mock for assertions.
 */
export function useHandlerEnvironment(db: Pick<TestDatabase, 'url'> = NO_DATABASE) {
  vi.stubEnv(ENV.deployment, DEPLOYMENT);
  vi.stubEnv(ENV.dbSecretArn, SECRET_ARN);
  vi.stubEnv(ENV.allocationVersion, '1');
  vi.stubEnv(ENV.dbTls, 'off');
  vi.stubEnv(ENV.databaseUrl, undefined);
  vi.stubEnv(ENV.dbHost, undefined);
  vi.stubEnv(ENV.dbPort, undefined);
  vi.stubEnv(ENV.dbName, undefined);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: secretFor(db) });
  return secrets;
}

/** Between tests: a cold container (no pool, no cached secret). */
export async function resetContainer(): Promise<void> {
  await closeDatabase();
  clearCaches();
}

export interface EmfMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  /** Every value emitted under this name in the blob. */
  readonly values: number[];
  /** The dimension set, names to values. */
  readonly dimensions: Record<string, string>;
}

/** Captures what Powertools writes: JSON log lines (warnings and errors on stderr) and EMF blobs (stdout). */
export function captureStdout() {
  const chunks: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(record),
    vi.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
  const records = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    /** Log lines (JSON objects without the EMF `_aws` key). */
    logs: () => records().filter((r) => !('_aws' in r)),
    /** Every metric of every EMF blob, flattened. */
    metrics: (): EmfMetric[] =>
      records()
        .filter((r) => '_aws' in r)
        .flatMap((blob) => {
          const aws = blob._aws as {
            CloudWatchMetrics: {
              Namespace: string;
              Dimensions: string[][];
              Metrics: { Name: string; Unit: string }[];
            }[];
          };
          return aws.CloudWatchMetrics.flatMap((directive) =>
            directive.Metrics.map((metric) => {
              const value = blob[metric.Name] as number | number[];
              const names = directive.Dimensions.flat();
              return {
                namespace: directive.Namespace,
                name: metric.Name,
                unit: metric.Unit,
                values: Array.isArray(value) ? value : [value],
                dimensions: Object.fromEntries(names.map((n) => [n, String(blob[n])])),
              };
            }),
          );
        }),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** The one emitted metric of that name; fails when there is none or several. */
export function single(metrics: EmfMetric[], name: string): EmfMetric {
  const found = metrics.filter((m) => m.name === name);
  if (found.length !== 1) throw new Error(`expected one EMF metric "${name}", found ${found.length}`);
  return found[0]!;
}

export interface AlarmMetric {
  readonly alarmName: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly unit: string | undefined;
  readonly dimensions: Record<string, string>;
  readonly treatMissingData: string;
}

let synthesizedAlarms: AlarmMetric[] | undefined;

/** The alarms on fifo-ledger's own metrics in the synthesized stack (bundling skipped), synthesized once per file. */
export function alarmMetrics(): AlarmMetric[] {
  synthesizedAlarms ??= synthesizeAlarmMetrics();
  return synthesizedAlarms;
}

function synthesizeAlarmMetrics(): AlarmMetric[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(TEST_STACK_CONTEXT);
  const stack = new FifoLedgerStack(app, config.stackName, config.props);
  const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
  return Object.values(alarms)
    .map((a) => a.Properties as Record<string, unknown>)
    .filter(
      (p) => typeof p.Namespace === 'string' && p.Namespace !== 'AWS/Lambda' && p.Namespace !== 'AWS/SQS',
    )
    .map((p) => ({
      alarmName: String(p.AlarmName),
      namespace: String(p.Namespace),
      metricName: String(p.MetricName),
      unit: p.Unit as string | undefined,
      dimensions: Object.fromEntries(
        (p.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
      ),
      treatMissingData: String(p.TreatMissingData),
    }));
}

/** The alarm watching `metricName`. */
export function alarmOn(metricName: string): AlarmMetric {
  const alarm = alarmMetrics().find((a) => a.metricName === metricName);
  if (!alarm) throw new Error(`no alarm watches ${metricName}`);
  return alarm;
}

/** What a handler test works with; the fields are set anew for each test. */
export interface HandlerEnvironment {
  // biome-ignore lint/suspicious/noExplicitAny: the mock's generic parameters are irrelevant here
  secrets: AwsStub<any, any, any>;
  stdout: ReturnType<typeof captureStdout>;
}

/** What every test of a handler file on a database works with. */
export interface HandlerSuite extends HandlerEnvironment {
  db: TestDatabase;
}

/**
 * For handler tests that need no PostgreSQL (the handler fails before it connects): for each
 * test, a cold container, the handlers' environment with a secret naming a server that is not
 * there, and captured stdout. Read the fields inside tests, not when the file loads.
 */
export function handlerEnvironment(): HandlerEnvironment {
  const environment = {} as HandlerEnvironment;
  beforeEach(async () => {
    await resetContainer();
    environment.secrets = useHandlerEnvironment();
    environment.stdout = captureStdout();
  });
  afterEach(() => {
    environment.stdout.restore();
    environment.secrets.restore();
    vi.unstubAllEnvs();
  });
  return environment;
}

/**
 * Registers the lifecycle every handler test file shares: one database for the file and, for
 * each test, a cold container, the handlers' environment with a mocked secret, and captured
 * stdout. Read the fields inside tests, not when the file loads.
 *
 * @param options.database 'migrated' (default), 'empty' (the migrate handler's own test), or
 *   'bot': the bot's production DDL and rows (test/support/bot-schema.ts), not migrated
 * @param options.resetTables empty fifo-ledger's tables before each test @default true when migrated
 */
export function handlerSuite(
  options: { database?: 'migrated' | 'empty' | 'bot'; resetTables?: boolean } = {},
): HandlerSuite {
  const migrated = (options.database ?? 'migrated') === 'migrated';
  const suite = {} as HandlerSuite;
  beforeAll(async () => {
    suite.db = migrated ? await createTestDatabase() : await createEmptyDatabase();
    if (options.database === 'bot') await createBotSchema(suite.db.pool);
  });
  afterAll(async () => {
    await resetContainer();
    await suite.db?.drop();
    vi.unstubAllEnvs();
  });
  beforeEach(async () => {
    if (migrated && options.resetTables !== false) await resetTables(suite.db.pool);
    await resetContainer();
    suite.secrets = useHandlerEnvironment(suite.db);
    suite.stdout = captureStdout();
  });
  afterEach(() => {
    suite.stdout.restore();
    suite.secrets.restore();
  });
  return suite;
}
