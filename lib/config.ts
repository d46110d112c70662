/**
 * The deployment's settings: CDK context values (cdk.json or `-c key=value`) validated into
 * typed stack props. Reading the context is bin/app.ts's job; this module only checks and
 * converts what it is given, and every error names the key at fault.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { isSenderAddress, SENDER_ADDRESS_RULE } from '../shared/util/sender-address.ts';
import { isValidTimeZone, TIME_ZONE_RULE } from '../shared/util/time-zone.ts';
import {
  type DailyTime,
  DEFAULT_STACK_NAME,
  type FifoLedgerStackProps,
  stackSettingProblems,
} from './fifo-ledger-stack.ts';

/** `-c key=value` gives text; cdk.json gives JSON types. Both are accepted. */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
/** A whole number, whose range the construct that owns the setting checks (lib/setting-problems.ts). */
const wholeNumber = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
  .pipe(z.number().int());
const int = (min: number, max: number) => wholeNumber.pipe(z.number().min(min).max(max));
const text = z.string().trim().min(1);
const list = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
  .transform((items) => items.map((item) => item.trim()).filter((item) => item.length > 0));
const email = z.string().trim().pipe(z.email());
const sender = z.string().trim().refine(isSenderAddress, { message: SENDER_ADDRESS_RULE });
const timeZone = z.string().trim().refine(isValidTimeZone, { message: TIME_ZONE_RULE });
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

/**
 * Every context key and its type. None has a default here: an absent key leaves the stack's
 * prop unset, and the construct's default applies (README, "Settings", lists them).
 */
export const contextSchema = z.object({
  /** The CloudFormation stack name, also the metrics' deployment dimension. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must start with a letter; letters, digits and hyphens')
    .optional(),
  /** 'new': create a VPC and an RDS instance. 'existing': use the database described below. */
  databaseMode: z.enum(['new', 'existing']).optional(),

  // mode "new"
  databaseInstanceType: text.optional(),
  databaseAllocatedStorageGiB: int(20, 65536).optional(),
  databaseMultiAz: bool.optional(),
  databaseDeletionProtection: bool.optional(),
  databaseBackupRetentionDays: int(1, 35).optional(),
  /** 0 disables rotation. */
  databaseSecretRotationDays: int(0, 365).optional(),

  // mode "existing"
  databaseHost: text.optional(),
  databasePort: int(1, 65535).optional(),
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
    .optional(),
  createVpcEndpoints: bool.optional(),
  schedulesEnabled: bool.optional(),
  scheduleTimeZone: timeZone.optional(),
  incrementalIntervalMinutes: int(1, 60).optional(),
  fullRebuildTime: dailyTime.optional(),
  reportTime: dailyTime.optional(),
  alarmEmail: email.optional(),
  reportSender: sender.optional(),
  reportRecipients: list.pipe(z.array(email)).optional(),
  reportSubjectPrefix: z.string().optional(),
  reportTimeZone: timeZone.optional(),
  reportWindowHours: int(1, 24 * 366).optional(),
  createSenderIdentity: bool.optional(),
  allocationVersion: int(1, 2_147_483_647).optional(),
  reserveWriterConcurrency: bool.optional(),
  logRetentionDays: retentionDays.optional(),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).optional(),
  fullRebuildMemoryMiB: wholeNumber.optional(),
  /** Above 1: the nightly schedule starts the partitioned rebuild's state machine. */
  fullRebuildPartitions: wholeNumber.optional(),
  /** Partitions the state machine runs at once. */
  fullRebuildMaxConcurrency: wholeNumber.optional(),
  freshnessLagThresholdMinutes: int(1, 1440).optional(),
  freshnessEvaluationPeriods: int(1, 288).optional(),
  fullRebuildMaxAgeHours: wholeNumber.optional(),
  driftRowsThreshold: int(0, 2_147_483_647).optional(),
  /** Run the migration trigger on every deploy (not only when its code or settings change). */
  migrateOnEveryDeploy: bool.optional(),
});

type Settings = z.infer<typeof contextSchema>;
type SettingKey = keyof Settings;

/**
 * The context key of each stack prop whose name differs, for the problems the stack's rules
 * find (stackSettingProblems names props).
 */
const CONTEXT_KEY_OF_PROP: Readonly<Record<string, SettingKey>> = {
  'database.subnetIds': 'subnetIds',
  'database.availabilityZones': 'availabilityZones',
  incrementalInterval: 'incrementalIntervalMinutes',
  fullRebuildMemorySize: 'fullRebuildMemoryMiB',
  freshnessLagThreshold: 'freshnessLagThresholdMinutes',
  fullRebuildMaxAge: 'fullRebuildMaxAgeHours',
};

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
  // Each key is parsed on its own, so that one pass reports every bad key, and the stack's
  // rules still run on the keys that parsed.
  const problems: string[] = [];
  const failed = new Set<string>();
  const c: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(contextSchema.shape)) {
    const parsed = schema.safeParse(context[key]);
    if (parsed.success) {
      c[key] = parsed.data;
    } else {
      failed.add(key);
      for (const issue of parsed.error.issues)
        problems.push(`${[key, ...issue.path].join('.')}: ${issue.message}`);
    }
  }
  const unknown = Object.keys(context).filter((key) => !(key in contextSchema.shape));
  if (unknown.length > 0) problems.push(`unknown context key(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  const settings = c as Settings;

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
        })
      : [];
  for (const key of missing) {
    failed.add(key);
    problems.push(`${key}: required when databaseMode is "existing"`);
  }
  const instanceType =
    settings.databaseMode !== 'existing' && settings.databaseInstanceType !== undefined
      ? parseInstanceType(settings.databaseInstanceType, problems)
      : undefined;
  const recipients = settings.reportRecipients ?? [];
  if (recipients.length > 0 && !settings.reportSender && !failed.has('reportSender')) {
    problems.push('reportSender: required when reportRecipients is set');
  }
  if (settings.reportSender && recipients.length === 0 && !failed.has('reportRecipients')) {
    problems.push('reportRecipients: required when reportSender is set');
  }

  const props = stackProps(settings, instanceType, now);
  for (const problem of stackSettingProblems(props)) {
    const key = CONTEXT_KEY_OF_PROP[problem.setting] ?? problem.setting;
    if (!failed.has(key)) problems.push(`${key}: ${problem.message}`);
  }
  if (problems.length > 0) throw new ConfigurationError(describe(problems));
  return { stackName: settings.stackName ?? DEFAULT_STACK_NAME, props };
}

/** Absent keys stay undefined: the constructs' defaults apply. */
function stackProps(
  c: Settings,
  instanceType: ec2.InstanceType | undefined,
  now: Date,
): FifoLedgerStackProps {
  const days = (n: number | undefined) => (n === undefined ? undefined : Duration.days(n));
  const minutes = (n: number | undefined) => (n === undefined ? undefined : Duration.minutes(n));
  const zone = (name: string | undefined) => (name === undefined ? undefined : TimeZone.of(name));
  // Without databaseMode the stack creates its own database; the stack needs to know which.
  const database: FifoLedgerStackProps['database'] =
    c.databaseMode === 'existing'
      ? {
          mode: 'existing',
          host: c.databaseHost!,
          port: c.databasePort,
          databaseName: c.databaseName,
          secretArn: c.databaseSecretArn!,
          vpcId: c.vpcId!,
          subnetIds: c.subnetIds ?? [],
          availabilityZones: c.availabilityZones ?? [],
          securityGroupId: c.databaseSecurityGroupId!,
        }
      : {
          mode: 'new',
          instanceType,
          allocatedStorageGiB: c.databaseAllocatedStorageGiB,
          multiAz: c.databaseMultiAz,
          deletionProtection: c.databaseDeletionProtection,
          backupRetention: days(c.databaseBackupRetentionDays),
          databaseName: c.databaseName,
          secretRotation: c.databaseSecretRotationDays === 0 ? null : days(c.databaseSecretRotationDays),
        };
  return {
    stackName: c.stackName ?? DEFAULT_STACK_NAME,
    description: 'fifo-ledger: FIFO cost-basis allocations and realized PnL, scheduled on AWS Lambda',
    database,
    loginUsernamePrefix: c.databaseLoginPrefix,
    createVpcEndpoints: c.createVpcEndpoints,
    schedulesEnabled: c.schedulesEnabled,
    scheduleTimeZone: zone(c.scheduleTimeZone),
    incrementalInterval: minutes(c.incrementalIntervalMinutes),
    fullRebuildTime: c.fullRebuildTime,
    reportTime: c.reportTime,
    alarmEmail: c.alarmEmail,
    reportSender: c.reportSender,
    reportRecipients: c.reportRecipients,
    reportSubjectPrefix: c.reportSubjectPrefix,
    reportTimeZone: zone(c.reportTimeZone),
    reportWindowHours: c.reportWindowHours,
    createSenderIdentity: c.createSenderIdentity,
    allocationVersion: c.allocationVersion,
    reserveWriterConcurrency: c.reserveWriterConcurrency,
    logRetention: c.logRetentionDays as logs.RetentionDays | undefined,
    logLevel: c.logLevel,
    fullRebuildMemorySize: c.fullRebuildMemoryMiB,
    fullRebuildPartitions: c.fullRebuildPartitions,
    fullRebuildMaxConcurrency: c.fullRebuildMaxConcurrency,
    freshnessLagThreshold: minutes(c.freshnessLagThresholdMinutes),
    freshnessEvaluationPeriods: c.freshnessEvaluationPeriods,
    fullRebuildMaxAge:
      c.fullRebuildMaxAgeHours === undefined ? undefined : Duration.hours(c.fullRebuildMaxAgeHours),
    driftRowsThreshold: c.driftRowsThreshold,
    // The run token is what makes the trigger run on every deploy; the key is on unless set false.
    migrationRunToken: c.migrateOnEveryDeploy === false ? undefined : now.toISOString(),
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
