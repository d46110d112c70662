/**
 * The fifo-ledger deployment: the database (new or existing), the functions' two database
 * logins and their secrets, the four functions, the partitioned rebuild's state machine, the
 * EventBridge Scheduler schedules (one role each), the failure queue, the alarms, and the
 * deploy-time migration trigger, which also creates the logins. Configuration arrives as typed
 * props (bin/app.ts parses it); their defaults are applied in stackSettings, and each rule on
 * them lives beside the construct that owns the setting (stackSettingProblems).
 */
import { CfnOutput, Duration, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { alarmSettingProblems, FifoAlarms } from './alarms.ts';
import { FifoDashboard } from './dashboard.ts';
import { type ExistingDatabase, NewDatabase, type NewDatabaseProps } from './database.ts';
import type { FifoFunction } from './fifo-function.ts';
import { FullRebuildStateMachine, mapConcurrencyProblem } from './full-rebuild-state-machine.ts';
import { FunctionsNetwork, networkSettingProblems } from './functions-network.ts';
import { FULL_REBUILD_TIMEOUT, functionSettingProblems, LedgerFunctions } from './ledger-functions.ts';
import { LedgerSchedules, type ScheduleName } from './ledger-schedules.ts';
import { DatabaseLogins, type DatabaseLoginsProps } from './logins.ts';
import { MigrateOnDeploy } from './migrate-on-deploy.ts';
import { problemOf, type SettingProblem, throwOnProblems } from './setting-problems.ts';

/** The stack's name when the context gives none (bin/app.ts). */
export const DEFAULT_STACK_NAME = 'FifoLedger';

/** A time of day on the schedules' clock. */
export interface DailyTime {
  readonly hour: number;
  readonly minute: number;
}

/**
 * Create a VPC and an RDS PostgreSQL instance. Each setting and its default is documented once,
 * on NewDatabaseProps (lib/database.ts).
 */
export interface NewDatabaseSettings
  extends Pick<
    NewDatabaseProps,
    | 'instanceType'
    | 'engineVersion'
    | 'allocatedStorageGiB'
    | 'multiAz'
    | 'deletionProtection'
    | 'backupRetention'
    | 'databaseName'
    | 'secretRotation'
  > {
  readonly mode: 'new';
}

/** Use a database that already exists; every value comes from configuration (no lookups). */
export interface ExistingDatabaseSettings {
  readonly mode: 'existing';
  /** The endpoint's host name. */
  readonly host: string;
  /**
   * @default 5432
   */
  readonly port?: number;
  /**
   * @default - the secret's dbname, else 'postgres'
   */
  readonly databaseName?: string;
  /** The complete ARN (with its 6-character suffix) of the secret holding {username, password}. */
  readonly secretArn: string;
  /** The VPC the database is in. */
  readonly vpcId: string;
  /** Subnets for the functions, with a route to the database; a multiple of the zones' count. */
  readonly subnetIds: string[];
  /** The zones of those subnets, in the same order. */
  readonly availabilityZones: string[];
  /** The database's security group; the stack adds an ingress rule from the functions. */
  readonly securityGroupId: string;
}

export interface FifoLedgerStackProps extends StackProps {
  /** Which database, and how to reach it. */
  readonly database: NewDatabaseSettings | ExistingDatabaseSettings;
  /**
   * The functions' database logins are `<prefix>_job` (incremental, full rebuild) and
   * `<prefix>_report`. Logins belong to the database server: two stacks on one server need two
   * prefixes.
   * @default 'fifo_ledger'
   */
  readonly loginUsernamePrefix?: string;
  /**
   * Create interface endpoints for Secrets Manager and SES in the functions' subnets. Turn
   * off when the subnets already reach them (a NAT gateway, or existing endpoints with
   * private DNS, which would conflict).
   * @default true
   */
  readonly createVpcEndpoints?: boolean;
  /**
   * The rollback switch: false creates every schedule DISABLED (no runs, data kept) and
   * silences the alarms that expect runs.
   * @default true
   */
  readonly schedulesEnabled?: boolean;
  /**
   * The time zone of the nightly and daily schedules.
   * @default TimeZone.of('UTC')
   */
  readonly scheduleTimeZone?: TimeZone;
  /**
   * How often the incremental run starts (whole minutes).
   * @default Duration.minutes(5)
   */
  readonly incrementalInterval?: Duration;
  /**
   * When the nightly full rebuild starts.
   * @default { hour: 2, minute: 30 }
   */
  readonly fullRebuildTime?: DailyTime;
  /**
   * When the daily report starts.
   * @default { hour: 7, minute: 0 }
   */
  readonly reportTime?: DailyTime;
  /**
   * Where alarms are mailed (the address must confirm the subscription).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * The report's From address ("reports@example.com" or "FIFO <reports@example.com>"), an
   * SES-verified identity (the address or its domain).
   * @default - the report is built and logged, not mailed
   */
  readonly reportSender?: string;
  /**
   * The report's recipients (in the SES sandbox they must be verified too).
   * @default - none
   */
  readonly reportRecipients?: string[];
  /**
   * The report's subject prefix.
   * @default - shared/report's default, "[fifo-ledger]"
   */
  readonly reportSubjectPrefix?: string;
  /**
   * The report's time zone (day boundaries and displayed times).
   * @default - the schedules' time zone
   */
  readonly reportTimeZone?: TimeZone;
  /**
   * The report's window in hours.
   * @default 24
   */
  readonly reportWindowHours?: number;
  /**
   * Create the SES email identity of the sender (SES mails it a verification link).
   * @default false
   */
  readonly createSenderIdentity?: boolean;
  /**
   * The allocation version the jobs build.
   * @default 1
   */
  readonly allocationVersion?: number;
  /**
   * Reserve a concurrency of 1 for the writers (incremental, full rebuild), so a function
   * never overlaps itself. Needs 1 unit of unreserved account concurrency each above the
   * minimum of 10: turn off on new accounts whose quota is 10.
   * @default true
   */
  readonly reserveWriterConcurrency?: boolean;
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * POWERTOOLS_LOG_LEVEL of the functions.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Memory of the full-rebuild function, in MiB.
   * @default 1024 (the rebuild peaks near 345 MB at 1M trades; see FULL_REBUILD_HEAP).
   *   At least FULL_REBUILD_MIN_MEMORY_MIB (768), which the heap limits need.
   */
  readonly fullRebuildMemorySize?: number;
  /**
   * Partitions of the nightly rebuild (README, "Partitioned nightly rebuild on AWS"). Above 1,
   * the nightly schedule starts the state machine, which plans this many partitions and runs
   * each in its own invocation; at 1 it invokes the function, which rebuilds in one process.
   * 1 to MAX_FULL_REBUILD_PARTITIONS (256).
   * @default 1
   */
  readonly fullRebuildPartitions?: number;
  /**
   * How many partitions the state machine runs at once (its Map's MaxConcurrency), 1 to 40.
   * With reserved writer concurrency, the full-rebuild function reserves this many when
   * fullRebuildPartitions is above 1.
   * @default 4
   */
  readonly fullRebuildMaxConcurrency?: number;
  /**
   * Freshness alarm threshold: the age of the oldest unprocessed change.
   * @default Duration.minutes(15)
   */
  readonly freshnessLagThreshold?: Duration;
  /**
   * Incremental periods over the threshold or missing before the freshness alarm fires.
   * @default 3
   */
  readonly freshnessEvaluationPeriods?: number;
  /**
   * Alarm when no full rebuild succeeded for this long (whole hours).
   * @default Duration.hours(26)
   */
  readonly fullRebuildMaxAge?: Duration;
  /**
   * Alarm when a full rebuild finds more drifted rows than this.
   * @default 0
   */
  readonly driftRowsThreshold?: number;
  /**
   * A value that changes on every deploy (bin/app.ts passes the synth time) so that the
   * migration trigger runs on every deploy, not only when its code or configuration change.
   * @default - migrations run on the first deploy and whenever the migration function, its
   * bundled migrations or its configuration change
   */
  readonly migrationRunToken?: string;
}

/** The settings the stack's parts read, with the defaults documented on FifoLedgerStackProps. */
export type StackSettings = Required<
  Pick<
    FifoLedgerStackProps,
    | 'createVpcEndpoints'
    | 'schedulesEnabled'
    | 'scheduleTimeZone'
    | 'incrementalInterval'
    | 'fullRebuildTime'
    | 'reportTime'
    | 'reportRecipients'
    | 'reportTimeZone'
    | 'reportWindowHours'
    | 'createSenderIdentity'
    | 'allocationVersion'
    | 'reserveWriterConcurrency'
    | 'logRetention'
    | 'logLevel'
    | 'fullRebuildMemorySize'
    | 'fullRebuildPartitions'
    | 'fullRebuildMaxConcurrency'
  >
> &
  Pick<FifoLedgerStackProps, 'reportSender' | 'reportSubjectPrefix'>;

/**
 * The defaults of FifoLedgerStackProps, applied: the one place they are. Props the stack only
 * passes on (the database's, the login prefix, the alarms' thresholds) keep the defaults of the
 * construct they go to.
 */
export function stackSettings(props: FifoLedgerStackProps): StackSettings {
  const scheduleTimeZone = props.scheduleTimeZone ?? TimeZone.of('UTC');
  return {
    createVpcEndpoints: props.createVpcEndpoints ?? true,
    schedulesEnabled: props.schedulesEnabled ?? true,
    scheduleTimeZone,
    incrementalInterval: props.incrementalInterval ?? Duration.minutes(5),
    fullRebuildTime: props.fullRebuildTime ?? { hour: 2, minute: 30 },
    reportTime: props.reportTime ?? { hour: 7, minute: 0 },
    reportSender: props.reportSender,
    reportRecipients: props.reportRecipients ?? [],
    reportSubjectPrefix: props.reportSubjectPrefix,
    reportTimeZone: props.reportTimeZone ?? scheduleTimeZone,
    reportWindowHours: props.reportWindowHours ?? 24,
    createSenderIdentity: props.createSenderIdentity ?? false,
    allocationVersion: props.allocationVersion ?? 1,
    reserveWriterConcurrency: props.reserveWriterConcurrency ?? true,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    logLevel: props.logLevel ?? 'INFO',
    fullRebuildMemorySize: props.fullRebuildMemorySize ?? 1024,
    fullRebuildPartitions: props.fullRebuildPartitions ?? 1,
    fullRebuildMaxConcurrency: props.fullRebuildMaxConcurrency ?? 4,
  };
}

/**
 * Every setting of `props` that cannot work, each rule from the construct that owns it. The
 * stack throws them; lib/config.ts reports them under their context keys.
 */
export function stackSettingProblems(props: FifoLedgerStackProps): SettingProblem[] {
  const settings = stackSettings(props);
  const intervalMinutes = settings.incrementalInterval.toMinutes({ integral: false });
  return [
    ...problemOf(
      'incrementalInterval',
      Number.isInteger(intervalMinutes) && intervalMinutes >= 1
        ? undefined
        : `must be whole minutes, at least 1, got ${settings.incrementalInterval.toHumanString()}`,
    ),
    ...functionSettingProblems(settings),
    ...problemOf('fullRebuildMaxConcurrency', mapConcurrencyProblem(settings.fullRebuildMaxConcurrency)),
    ...networkSettingProblems(props.database, settings.createVpcEndpoints),
    ...alarmSettingProblems({ ...props, incrementalInterval: settings.incrementalInterval }),
  ];
}

export class FifoLedgerStack extends Stack {
  public readonly database: NewDatabase | ExistingDatabase;
  /** The job and report logins' secrets (the owner's is `database.secret`). */
  public readonly logins: DatabaseLogins;
  public readonly incremental: FifoFunction;
  public readonly fullRebuild: FifoFunction;
  public readonly report: FifoFunction;
  public readonly migrate: FifoFunction;
  /** The partitioned rebuild: plan, a Map over the partitions, finish. */
  public readonly fullRebuildStateMachine: FullRebuildStateMachine;
  public readonly failureQueue: sqs.Queue;
  public readonly alarms: FifoAlarms;
  public readonly dashboard: FifoDashboard;
  public readonly schedules: Record<ScheduleName, scheduler.Schedule>;
  /**
   * Each schedule's own role: it can invoke its one function (or start the rebuild's state
   * machine) and dead-letter to the failure queue.
   */
  public readonly schedulerRoles: Record<ScheduleName, iam.Role>;

  constructor(scope: Construct, id: string, props: FifoLedgerStackProps) {
    super(scope, id, props);
    throwOnProblems(stackSettingProblems(props));
    const settings = stackSettings(props);
    const deployment = this.stackName;

    const network = new FunctionsNetwork(this, {
      database: props.database,
      createVpcEndpoints: settings.createVpcEndpoints,
      // Only the report function calls SES, and only when it mails.
      sesEndpoint: props.reportSender !== undefined,
    });
    this.database = network.database;

    // Three logins, three secrets: the owner (migrate only), the job login (incremental and
    // full rebuild, member of fifo_ledger_writer), the report login (member of fifo_ledger_reader).
    this.logins = new DatabaseLogins(this, 'Logins', loginsProps(this.database, props.loginUsernamePrefix));

    const functions = new LedgerFunctions(this, {
      settings,
      deployment,
      database: this.database,
      logins: this.logins,
      securityGroup: network.securityGroup,
    });
    this.failureQueue = functions.failureQueue;
    this.incremental = functions.incremental;
    this.fullRebuild = functions.fullRebuild;
    this.report = functions.report;
    this.migrate = functions.migrate;

    const migration = new MigrateOnDeploy(this, 'MigrateOnDeploy', {
      handler: this.migrate,
      after: network.migrationPrerequisites,
      runToken: props.migrationRunToken,
    });
    // A login rotation starts as its schedule is created, and logs in as the login first: the
    // migrate function must have created it.
    for (const rotation of this.logins.rotationSchedules) rotation.node.addDependency(migration);
    // The functions connect as their logins, so they are created (or switched to them, on an
    // upgrade) only once the migration has made the logins; new code also meets its schema.
    for (const fn of [this.incremental, this.fullRebuild, this.report]) fn.node.addDependency(migration);

    // Built whatever the partition count, so that a partitioned run can also be started by
    // hand; the nightly schedule starts it when fullRebuildPartitions is above 1.
    this.fullRebuildStateMachine = new FullRebuildStateMachine(this, 'FullRebuildStateMachine', {
      fullRebuild: this.fullRebuild,
      // Never more partitions at once than the function may run: the others would be throttled.
      maxConcurrency: functions.fullRebuildConcurrency ?? settings.fullRebuildMaxConcurrency,
      invocationTimeout: FULL_REBUILD_TIMEOUT.plus(Duration.minutes(1)),
      logRetention: settings.logRetention,
    });

    const scheduled = new LedgerSchedules(this, {
      settings,
      incremental: this.incremental,
      fullRebuild:
        settings.fullRebuildPartitions > 1 ? this.fullRebuildStateMachine.stateMachine : this.fullRebuild,
      report: this.report,
      failureQueue: this.failureQueue,
      after: migration,
    });
    this.schedules = scheduled.schedules;
    this.schedulerRoles = scheduled.roles;

    this.alarms = new FifoAlarms(this, 'Alarms', {
      deployment,
      functions: { Incremental: this.incremental, FullRebuild: this.fullRebuild, Report: this.report },
      fullRebuildStateMachine: this.fullRebuildStateMachine.stateMachine,
      failureQueue: this.failureQueue,
      email: props.alarmEmail,
      schedulesEnabled: settings.schedulesEnabled,
      incrementalInterval: settings.incrementalInterval,
      freshnessLagThreshold: props.freshnessLagThreshold,
      freshnessEvaluationPeriods: props.freshnessEvaluationPeriods,
      fullRebuildMaxAge: props.fullRebuildMaxAge,
      driftRowsThreshold: props.driftRowsThreshold,
    });
    this.dashboard = new FifoDashboard(this, 'Dashboard', {
      deployment,
      incremental: this.incremental,
      fullRebuild: this.fullRebuild,
      report: this.report,
      failureQueue: this.failureQueue,
      alarms: this.alarms.all,
      incrementalInterval: settings.incrementalInterval,
      freshnessLagThreshold: props.freshnessLagThreshold,
    });

    this.addOutputs();
  }

  private addOutputs(): void {
    new CfnOutput(this, 'IncrementalFunctionName', { value: this.incremental.functionName });
    new CfnOutput(this, 'FullRebuildFunctionName', { value: this.fullRebuild.functionName });
    new CfnOutput(this, 'ReportFunctionName', { value: this.report.functionName });
    new CfnOutput(this, 'MigrateFunctionName', { value: this.migrate.functionName });
    new CfnOutput(this, 'FullRebuildStateMachineArn', {
      description: 'The partitioned full rebuild (plan, partitions, finish)',
      value: this.fullRebuildStateMachine.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.url });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.failureQueue.queueUrl });
    new CfnOutput(this, 'DatabaseSecretArn', {
      description: 'The owner: migrations and logins (the migrate function)',
      value: this.database.secret.secretArn,
    });
    new CfnOutput(this, 'JobSecretArn', {
      description: `Login ${this.logins.usernames.job}: incremental and full rebuild (fifo_ledger_writer)`,
      value: this.logins.jobSecret.secretArn,
    });
    new CfnOutput(this, 'ReportSecretArn', {
      description: `Login ${this.logins.usernames.report}: the report (fifo_ledger_reader)`,
      value: this.logins.reportSecret.secretArn,
    });
    new CfnOutput(this, 'DatabaseHost', { value: this.database.host });
  }
}

/** The logins' secrets go with the database: attached and rotated when the stack created it. */
function loginsProps(
  database: NewDatabase | ExistingDatabase,
  usernamePrefix: string | undefined,
): DatabaseLoginsProps {
  const newDatabase = database instanceof NewDatabase ? database : undefined;
  return {
    ownerSecret: database.secret,
    usernamePrefix,
    instance: newDatabase?.instance,
    rotation:
      newDatabase?.rotation && newDatabase.rotationSecurityGroup
        ? {
            automaticallyAfter: newDatabase.rotation,
            vpc: newDatabase.vpc,
            vpcSubnets: newDatabase.functionSubnets,
            securityGroup: newDatabase.rotationSecurityGroup,
          }
        : undefined,
    host: database.host,
    port: database.port,
    databaseName: database.databaseName,
  };
}
