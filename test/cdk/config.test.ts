/** The deployment settings: context values (cdk.json or -c key=value) validated into stack props. */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseConfig, stackSettings } from '../../lib/index.ts';
import { EXISTING_DATABASE_CONTEXT } from './support.ts';

/** The error message parseConfig throws for `context`. */
function problems(context: Record<string, unknown>): string {
  try {
    parseConfig(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseConfig', () => {
  it('leaves an absent key to the stack, whose defaults are a new database and enabled schedules', () => {
    // Why: `cdk synth` on a clean clone must work with cdk.json alone; each default lives once, on
    // the construct's props, so the config must not fill in values of its own.
    // Prepare
    const now = new Date('2026-03-01T00:00:00Z');

    // Act
    const { stackName, props } = parseConfig({}, now);
    const settings = stackSettings(props);

    // Assess
    expect(stackName).toBe('FifoLedger');
    expect(props.database).toEqual({ mode: 'new' });
    expect(props.schedulesEnabled).toBeUndefined();
    expect(settings.schedulesEnabled).toBe(true);
    expect(settings.scheduleTimeZone.timezoneName).toBe('UTC');
    expect(settings.incrementalInterval.toMinutes()).toBe(5);
    expect(settings.fullRebuildTime).toEqual({ hour: 2, minute: 30 });
    expect(settings.reserveWriterConcurrency).toBe(true);
    expect(props.migrationRunToken).toBe('2026-03-01T00:00:00.000Z');
  });

  it('takes a login prefix PostgreSQL accepts and refuses one it reserves or folds', () => {
    // Why: logins belong to the database server, so two stacks on one server need two prefixes; "pg_" names are PostgreSQL's.
    // Prepare
    const refused = ['pg_fifo', 'Fifo', '1fifo', 'fifo-ledger', 'x'.repeat(41)];

    // Act
    const accepted = parseConfig({ databaseLoginPrefix: 'fifo_blue' }).props.loginUsernamePrefix;
    const messages = refused.map((prefix) => problems({ databaseLoginPrefix: prefix }));

    // Assess
    expect(accepted).toBe('fifo_blue');
    for (const message of messages)
      expect(message).toContain('databaseLoginPrefix: must be lowercase letters');
  });

  it('reads -c values, which arrive as text', () => {
    // Why: `cdk deploy -c schedulesEnabled=false` is the documented rollback; "false" must mean false.
    // Prepare
    const context = {
      schedulesEnabled: 'false',
      incrementalIntervalMinutes: '10',
      databaseSecretRotationDays: '0',
      migrateOnEveryDeploy: 'false',
    };

    // Act
    const { props } = parseConfig(context);

    // Assess
    expect(props.schedulesEnabled).toBe(false);
    expect(props.incrementalInterval?.toMinutes()).toBe(10);
    expect(props.database).toMatchObject({ mode: 'new', secretRotation: null });
    expect(props.migrationRunToken).toBeUndefined();
  });

  it('builds the existing-database settings from ids, lists given as text or arrays', () => {
    // Why: no lookups at synth: every id of the bot's database comes from configuration.
    // Prepare
    const context = {
      ...EXISTING_DATABASE_CONTEXT,
      subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    };

    // Act
    const { props } = parseConfig(context);

    // Assess
    expect(props.database).toEqual({
      mode: 'existing',
      host: 'bot-db.abcdefgh.eu-west-1.rds.amazonaws.com',
      port: 5432,
      databaseName: 'bot',
      secretArn: EXISTING_DATABASE_CONTEXT.databaseSecretArn,
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      securityGroupId: 'sg-0cccccccccccccccc',
    });
  });

  it('names every missing key of the existing mode at once', () => {
    // Why: an operator fixes the configuration in one pass, not one error per synth.
    // Prepare
    const context = { databaseMode: 'existing' };

    // Act
    const message = problems(context);

    // Assess
    for (const key of ['databaseHost', 'databaseSecretArn', 'vpcId', 'subnetIds', 'availabilityZones']) {
      expect(message).toContain(`${key}: required when databaseMode is "existing"`);
    }
    expect(message).toContain('databaseSecurityGroupId');
  });

  it('rejects malformed values, naming the key and what is allowed', () => {
    // Why: a typo in a time, zone or ARN must fail at synth, not as a broken schedule or a denied secret.
    // Prepare
    const context = {
      fullRebuildTime: '25:00',
      scheduleTimeZone: 'Mars/Olympus',
      logRetentionDays: '2',
      databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-db',
      alarmEmail: 'not-an-address',
    };

    // Act
    const message = problems(context);

    // Assess
    expect(message).toMatch(/fullRebuildTime: must be a time of day as HH:MM/);
    expect(message).toMatch(/scheduleTimeZone: must be an IANA time zone/);
    expect(message).toMatch(/logRetentionDays: must be one of CloudWatch Logs' retention periods/);
    expect(message).toMatch(/databaseSecretArn: must be the complete secret ARN/);
    expect(message).toMatch(/alarmEmail:/);
  });

  it('refuses full-rebuild memory below what its heap limits need', () => {
    // Why: with the V8 heap allowed past the function's memory, Lambda kills the rebuild
    // instead of V8 reporting the heap out of room; 512 MiB was allowed before the young
    // generation grew to 64 MiB semi-spaces.
    // Act
    const message = problems({ fullRebuildMemoryMiB: '512' });
    const { props } = parseConfig({ fullRebuildMemoryMiB: '768' });

    // Assess
    expect(message).toMatch(/fullRebuildMemoryMiB: .*768/);
    expect(props.fullRebuildMemorySize).toBe(768);
  });

  it('rejects an unknown key instead of ignoring it', () => {
    // Why: "alarmEmial" silently ignored would mean alarms that reach nobody.
    // Prepare
    const context = { alarmEmial: 'ops@example.com' };

    // Act
    const message = problems(context);

    // Assess
    expect(message).toContain('unknown context key(s) "alarmEmial"');
  });

  it('refuses settings that cannot work together', () => {
    // Why: a sender without recipients cannot mail, CloudWatch refuses sub-hour periods over a day, and a new VPC has no NAT.
    // Prepare
    const context = {
      reportSender: 'reports@example.com',
      incrementalIntervalMinutes: '30',
      freshnessEvaluationPeriods: '60',
      freshnessLagThresholdMinutes: '30',
    };

    // Act
    const message = problems(context);

    // Assess
    expect(message).toContain('reportRecipients: required when reportSender is set');
    expect(message).toContain('freshnessEvaluationPeriods');
    expect(problems({ createVpcEndpoints: 'false' })).toContain('createVpcEndpoints: must stay true');
  });

  it('converts the alarm thresholds into durations', () => {
    // Why: the stack takes Durations; minutes and hours in the context must land in the right unit.
    // Prepare
    const context = {
      freshnessLagThresholdMinutes: '20',
      fullRebuildMaxAgeHours: '30',
      driftRowsThreshold: '5',
    };

    // Act
    const { props } = parseConfig(context);

    // Assess
    expect(props.freshnessLagThreshold?.toSeconds()).toBe(Duration.minutes(20).toSeconds());
    expect(props.fullRebuildMaxAge?.toHours()).toBe(30);
    expect(props.driftRowsThreshold).toBe(5);
  });
});
