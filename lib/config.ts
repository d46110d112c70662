/**
 * The deployment's settings: CDK context values (cdk.json or `-c key=value`) validated into
 * typed stack props. Reading the context is bin/app.ts's job; this module only checks and
 * converts what it is given, and every error names the key at fault.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { FULL_REBUILD_MIN_MEMORY_MIB, MAX_FULL_REBUILD_PARTITIONS } from '../functions/commons/constants.ts';
import type { DailyTime, FifoLedgerStackProps } from './fifo-ledger-stack.ts';
import { INLINE_MAP_MAX_CONCURRENCY } from './full-rebuild-state-machine.ts';

/** `-c key=value` gives text; cdk.json gives JSON types. Both are accepted. */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
    .pipe(z.number().int().min(min).max(max));
const text = z.string().trim().min(1);
const list = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
  .transform((items) => items.map((item) => item.trim()).filter((item) => item.length > 0));
const email = z.string().trim().pipe(z.email());
/** "Name <address>" or "address". */
const sender = z
  .string()
  .trim()
  .regex(/^(?:[^<>]*<[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+>|[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+)$/, {
    message: 'must be an email address, e.g. "reports@example.com" or "FIFO <reports@example.com>"',
  });
const timeZone = z
  .string()
  .trim()
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return zone.length > 0;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' },
  );
const dailyTime = z
  .string()
  .trim()
  .regex(/^([01]?\d|2[0-3]):([0-5]\d)$/, 'must be a time of day as HH:MM, e.g. "02:30"')
  .transform((v): DailyTime => {
    const [hour, minute] = v.split(':').map(Number);
    return { hour: hour!, minute: minute! };
  });
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
const retentionDays = int(1, 3653).refine((days) => (RETENTION_DAYS as readonly number[]).includes(days), {
  message: `must be one of CloudWatch Logs' retention periods: ${RETENTION_DAYS.join(', ')}`,
});

/** Every context key, its type and its default. */
export const contextSchema = z.strictObject({
  /** The CloudFormation stack name, also the metrics' deployment dimension. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must start with a letter; letters, digits and hyphens')
    .default('FifoLedger'),
  /** 'new': create a VPC and an RDS instance. 'existing': use the database described below. */
  databaseMode: z.enum(['new', 'existing']).default('new'),

  // mode "new"
  databaseInstanceType: text.default('t4g.micro'),
  databaseAllocatedStorageGiB: int(20, 65536).default(20),
  databaseMultiAz: bool.default(false),
  databaseDeletionProtection: bool.default(true),
  databaseBackupRetentionDays: int(1, 35).default(7),
  /** 0 disables rotation. */
  databaseSecretRotationDays: int(0, 365).default(30),

  // mode "existing"
  databaseHost: text.optional(),
  databasePort: int(1, 65535).default(5432),
  databaseSecretArn: z
    .string()
    .trim()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
      'must be the complete secret ARN, ending with the 6-character suffix (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)',
    )
    .optional(),
  vpcId: z
    .string()
    .trim()
    .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)')
    .optional(),
  subnetIds: list
    .pipe(z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids (subnet-...)')))
    .optional(),
  availabilityZones: list
    .pipe(z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be zone names')))
    .optional(),
  databaseSecurityGroupId: z
    .string()
    .trim()
    .regex(/^sg-[0-9a-f]+$/, 'must be a security group id (sg-...)')
    .optional(),

  // both modes
  /** Empty: the secret's dbname (existing) or "fifo" (new). */
  databaseName: z
    .string()
    .trim()
    .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, 'must be a PostgreSQL database name')
    .optional(),
  /** The functions' logins are <prefix>_job and <prefix>_report (unique per database server). */
  databaseLoginPrefix: z
    .string()
    .trim()
    .regex(
      /^(?!pg_)[a-z_][a-z0-9_]{0,39}$/,
      'must be lowercase letters, digits and underscores, at most 40, not starting with a digit or "pg_"',
    )
    .default('fifo_ledger'),
  createVpcEndpoints: bool.default(true),
  schedulesEnabled: bool.default(true),
  scheduleTimeZone: timeZone.default('UTC'),
  incrementalIntervalMinutes: int(1, 60).default(5),
  fullRebuildTime: dailyTime.default({ hour: 2, minute: 30 }),
  reportTime: dailyTime.default({ hour: 7, minute: 0 }),
  alarmEmail: email.optional(),
  reportSender: sender.optional(),
  reportRecipients: list.pipe(z.array(email)).default([]),
  reportSubjectPrefix: z.string().optional(),
  reportTimeZone: timeZone.optional(),
  reportWindowHours: int(1, 24 * 366).default(24),
  createSenderIdentity: bool.default(false),
  allocationVersion: int(1, 2_147_483_647).default(1),
  reserveWriterConcurrency: bool.default(true),
  logRetentionDays: retentionDays.default(30),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  fullRebuildMemoryMiB: int(FULL_REBUILD_MIN_MEMORY_MIB, 10240).default(1024),
  /** Above 1: the nightly schedule starts the partitioned rebuild's state machine. */
  fullRebuildPartitions: int(1, MAX_FULL_REBUILD_PARTITIONS).default(1),
  /** Partitions the state machine runs at once (an inline Map runs at most 40). */
  fullRebuildMaxConcurrency: int(1, INLINE_MAP_MAX_CONCURRENCY).default(4),
  freshnessLagThresholdMinutes: int(1, 1440).default(15),
  freshnessEvaluationPeriods: int(1, 288).default(3),
  fullRebuildMaxAgeHours: int(1, 168).default(26),
  driftRowsThreshold: int(0, 2_147_483_647).default(0),
  /** Run the migration trigger on every deploy (not only when its code or settings change). */
  migrateOnEveryDeploy: bool.default(true),
});

export type ContextSettings = z.infer<typeof contextSchema>;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

const EXISTING_REQUIRED = [
  'databaseHost',
  'databaseSecretArn',
  'vpcId',
  'subnetIds',
  'availabilityZones',
  'databaseSecurityGroupId',
] as const;

/** Context keys are plain camelCase; CDK's own keys ("@aws-cdk/...", "aws:cdk:...") are not ours. */
export function isSettingKey(key: string): boolean {
  return /^[a-z][A-Za-z0-9]*$/.test(key);
}

export interface ParsedConfig {
  readonly stackName: string;
  readonly props: FifoLedgerStackProps;
}

/**
 * Validates the context values and builds the stack's props.
 * @param context the context keys fifo-ledger reads, as `app.node.tryGetContext` gives them
 * @param now the synth time, the migration run token when migrateOnEveryDeploy is on
 * @throws ConfigurationError listing every key at fault
 */
export function parseConfig(context: Record<string, unknown>, now: Date = new Date()): ParsedConfig {
  // Missing keys are reported together with malformed ones, so one pass fixes everything.
  const missing =
    context.databaseMode === 'existing'
      ? EXISTING_REQUIRED.filter((key) => {
          const value = context[key];
          return (
            value === undefined ||
            value === null ||
            value === '' ||
            (Array.isArray(value) && value.length === 0)
          );
        }).map((key) => `${key}: required when databaseMode is "existing"`)
      : [];
  const parsed = contextSchema.safeParse(context);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown context key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : `${issue.path.join('.') || 'context'}: ${issue.message}`,
    );
    throw new ConfigurationError(describe([...problems, ...missing]));
  }
  const c = parsed.data;
  const problems: string[] = [...missing];
  if (c.databaseMode === 'existing') {
    const subnets = c.subnetIds?.length ?? 0;
    const zones = c.availabilityZones?.length ?? 0;
    if (subnets > 0 && zones > 0 && subnets % zones !== 0) {
      problems.push(
        `subnetIds: give the same number of subnets in each of the ${zones} availabilityZones, in zone order (got ${subnets})`,
      );
    }
  }
  if (c.databaseMode === 'new' && !c.createVpcEndpoints) {
    problems.push('createVpcEndpoints: must stay true with databaseMode "new" (its VPC has no NAT gateway)');
  }
  const instanceType =
    c.databaseMode === 'new' ? parseInstanceType(c.databaseInstanceType, problems) : undefined;
  if (c.reportRecipients.length > 0 && !c.reportSender) {
    problems.push('reportSender: required when reportRecipients is set');
  }
  if (c.reportSender && c.reportRecipients.length === 0) {
    problems.push('reportRecipients: required when reportSender is set');
  }
  if (c.freshnessLagThresholdMinutes * 60 < c.incrementalIntervalMinutes * 60) {
    problems.push('freshnessLagThresholdMinutes: must be at least incrementalIntervalMinutes');
  }
  if (c.incrementalIntervalMinutes * c.freshnessEvaluationPeriods > 24 * 60) {
    problems.push(
      'freshnessEvaluationPeriods: incrementalIntervalMinutes x freshnessEvaluationPeriods must be at most one day (a CloudWatch limit)',
    );
  }
  if (problems.length > 0) throw new ConfigurationError(describe(problems));

  const database: FifoLedgerStackProps['database'] =
    c.databaseMode === 'new'
      ? {
          mode: 'new',
          instanceType,
          allocatedStorageGiB: c.databaseAllocatedStorageGiB,
          multiAz: c.databaseMultiAz,
          deletionProtection: c.databaseDeletionProtection,
          backupRetention: Duration.days(c.databaseBackupRetentionDays),
          databaseName: c.databaseName,
          secretRotation:
            c.databaseSecretRotationDays === 0 ? null : Duration.days(c.databaseSecretRotationDays),
        }
      : {
          mode: 'existing',
          host: c.databaseHost!,
          port: c.databasePort,
          databaseName: c.databaseName,
          secretArn: c.databaseSecretArn!,
          vpcId: c.vpcId!,
          subnetIds: c.subnetIds!,
          availabilityZones: c.availabilityZones!,
          securityGroupId: c.databaseSecurityGroupId!,
        };
  return {
    stackName: c.stackName,
    props: {
      stackName: c.stackName,
      description: 'fifo-ledger: FIFO cost-basis allocations and realized PnL, scheduled on AWS Lambda',
      database,
      loginUsernamePrefix: c.databaseLoginPrefix,
      createVpcEndpoints: c.createVpcEndpoints,
      schedulesEnabled: c.schedulesEnabled,
      scheduleTimeZone: TimeZone.of(c.scheduleTimeZone),
      incrementalInterval: Duration.minutes(c.incrementalIntervalMinutes),
      fullRebuildTime: c.fullRebuildTime,
      reportTime: c.reportTime,
      alarmEmail: c.alarmEmail,
      reportSender: c.reportSender,
      reportRecipients: c.reportRecipients,
      reportSubjectPrefix: c.reportSubjectPrefix,
      reportTimeZone: c.reportTimeZone === undefined ? undefined : TimeZone.of(c.reportTimeZone),
      reportWindowHours: c.reportWindowHours,
      createSenderIdentity: c.createSenderIdentity,
      allocationVersion: c.allocationVersion,
      reserveWriterConcurrency: c.reserveWriterConcurrency,
      logRetention: c.logRetentionDays as logs.RetentionDays,
      logLevel: c.logLevel,
      fullRebuildMemorySize: c.fullRebuildMemoryMiB,
      fullRebuildPartitions: c.fullRebuildPartitions,
      fullRebuildMaxConcurrency: c.fullRebuildMaxConcurrency,
      freshnessLagThreshold: Duration.minutes(c.freshnessLagThresholdMinutes),
      freshnessEvaluationPeriods: c.freshnessEvaluationPeriods,
      fullRebuildMaxAge: Duration.hours(c.fullRebuildMaxAgeHours),
      driftRowsThreshold: c.driftRowsThreshold,
      migrationRunToken: c.migrateOnEveryDeploy ? now.toISOString() : undefined,
    },
  };
}

function parseInstanceType(value: string, problems: string[]): ec2.InstanceType | undefined {
  const name = value.replace(/^db\./, '');
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(name)) {
    problems.push(`databaseInstanceType: must be an instance type such as "t4g.micro", got "${value}"`);
    return undefined;
  }
  return new ec2.InstanceType(name);
}

function describe(problems: string[]): string {
  return [
    'invalid fifo-ledger configuration (cdk.json "context" or -c key=value):',
    ...problems.map((p) => `  - ${p}`),
  ].join('\n');
}
