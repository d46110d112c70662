/**
 * The real thing: `npx cdk synth` with bundling (local esbuild, no Docker, no AWS credentials),
 * then the bundles it produced run against PostgreSQL, as Lambda would load them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, METRICS } from '../../functions/commons/constants.ts';
import { createEmptyDatabase, needsServer, type TestDatabase } from '../support/database.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a clean CI machine: no AWS credentials, no instance metadata to ask. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
  for (const key of Object.keys(env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(key))
      delete env[key];
    if (key.startsWith('CDK_DEFAULT_') || key.startsWith('VITEST') || key === 'DATABASE_URL') delete env[key];
  }
  return env;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 240_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd: repo, env, timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

type Template = {
  Resources: Record<
    string,
    { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
  >;
};

describe('npx cdk synth', () => {
  let out: string;
  let synth: Run;
  let template: Template;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    if (!needsServer) db = await createEmptyDatabase();
    out = await mkdtemp(join(tmpdir(), 'fifo-synth-'));
    synth = await run('npx', ['cdk', 'synth', '--no-notices', '--output', out], offlineEnv());
    if (synth.code === 0)
      template = JSON.parse(await readFile(join(out, 'FifoLedger.template.json'), 'utf8'));
  }, 240_000);
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
    await db?.drop();
  });

  it('synthesizes offline, bundling with the local esbuild, cdk-nag clean', () => {
    // Why: a clean clone must synth after `npm ci` with no Docker and no AWS account; nag findings fail the synth.
    // Prepare
    const resources = Object.values(template?.Resources ?? {});

    // Act
    const count = (type: string) => resources.filter((r) => r.Type === type).length;

    // Assess
    const hint = /schema version mismatch/i.test(synth.stderr)
      ? '\nThe aws-cdk CLI in devDependencies is older than aws-cdk-lib (aws-cdk@3.0.0 reads cloud assembly schema 43 ' +
        'only); aws-cdk-lib 2.276 writes schema 55, which aws-cdk@^2.1148.1 reads.'
      : '';
    expect(synth.code, `cdk synth failed:\n${synth.stderr.slice(-4000)}${hint}`).toBe(0);
    expect(synth.stderr).not.toMatch(/docker/i);
    expect(count('AWS::Scheduler::Schedule')).toBe(3);
    expect(count('AWS::Lambda::Function')).toBeGreaterThanOrEqual(4);
    expect(count('AWS::CloudWatch::Alarm')).toBeGreaterThanOrEqual(7);
    expect(count('AWS::SNS::Topic')).toBe(1);
    expect(count('Custom::Trigger')).toBe(1);
  });

  describe('the bundles', { tags: 'server' }, () => {
    /** Runs a bundled handler in a fresh Node process, as the Lambda runtime would import it. */
    async function invoke(
      logicalIdPrefix: string,
      event: unknown,
      env: Record<string, string> = {},
    ): Promise<Run> {
      expect(template, 'no template: cdk synth failed (see the test above)').toBeDefined();
      const entry = Object.entries(template.Resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(logicalIdPrefix),
      );
      const assetDir = join(out, entry![1].Metadata!['aws:asset:path']!);
      const script = `
        const { handler } = await import(${JSON.stringify(join(assetDir, 'index.mjs'))});
        const context = { functionName: 'bundle', awsRequestId: 'req-bundle', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bundle',
          functionVersion: '$LATEST', memoryLimitInMB: '512', logGroupName: 'g', logStreamName: 's',
          callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 60000 };
        const result = await handler(${JSON.stringify(event)}, context);
        process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
        process.exit(0);`;
      return run(
        'node',
        ['--input-type=module', '-e', script],
        {
          ...offlineEnv(),
          [ENV.databaseUrl]: db!.url,
          [ENV.dbTls]: 'off',
          [ENV.deployment]: 'FifoLedger',
          [ENV.migrationsDir]: join(assetDir, 'migrations'),
          ...env,
        },
        60_000,
      );
    }

    it('migrate applies the migrations it carries', async () => {
      // Why: the bundle must find its SQL files (copied by afterBundling) and load CommonJS deps from ESM.
      // Prepare
      const event = {};

      // Act
      const result = await invoke('Migrate', event);

      // Assess
      expect(result.code, result.stderr).toBe(0);
      const applied = JSON.parse(result.stdout.split('RESULT ')[1]!).applied as string[];
      expect(applied.length).toBeGreaterThanOrEqual(3);
    });

    it('incremental runs and emits the freshness lag', async () => {
      // Why: pg, pg-copy-streams and Powertools must work once bundled (pg-native external, createRequire banner).
      // Prepare
      const event = { scheduledTime: '2026-03-01T12:05:00Z' };

      // Act
      const result = await invoke('Incremental', event);

      // Assess
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`"${METRICS.freshnessLag.name}":0`);
      expect(result.stdout).toContain('"scheduledTime":"2026-03-01T12:05:00Z"');
    });
  });
});

describe('bin/app.ts', () => {
  it('stops with every bad setting named, before any bundling', async () => {
    // Why: a wrong -c value must produce a readable error, not a stack trace or a half-built template.
    // Prepare
    const out = await mkdtemp(join(tmpdir(), 'fifo-badconfig-'));
    const context = JSON.stringify({ databaseMode: 'existing', reportTime: '7am' });

    // Act
    const result = await run(
      'npx',
      ['tsx', 'bin/app.ts'],
      offlineEnv({ CDK_OUTDIR: out, CDK_CONTEXT_JSON: context }),
      60_000,
    );
    await rm(out, { recursive: true, force: true });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid fifo-ledger configuration');
    expect(result.stderr).toContain('databaseHost: required when databaseMode is "existing"');
    expect(result.stderr).toContain('reportTime: must be a time of day as HH:MM');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
