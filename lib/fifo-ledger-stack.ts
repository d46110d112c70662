/**
 * The fifo-ledger deployment: the database (new or existing), the functions' two database
 * logins and their secrets, the four functions, the partitioned rebuild's state machine, the
 * EventBridge Scheduler schedules (one role each), the failure queue, the alarms, and the
 * deploy-time migration trigger, which also creates the logins. Configuration arrives as typed
 * props (bin/app.ts parses it).
 */
import {
  CfnOutput,
  type CfnResource,
  Duration,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as triggers from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import {
  ENV,
  FULL_REBUILD_MIN_MEMORY_MIB,
  FULL_REBUILD_NODE_FLAGS,
  MAX_FULL_REBUILD_PARTITIONS,
  SCHEDULED_TIME_FIELD,
} from '../functions/commons/constants.ts';
import { LOGIN_SECRET_ENV } from '../shared/db/logins.ts';
import { FifoAlarms } from './alarms.ts';
import { FifoDashboard } from './dashboard.ts';
import { ExistingDatabase, NewDatabase } from './database.ts';
import { ServiceEndpoints } from './endpoints.ts';
import { FifoFunction } from './fifo-function.ts';
import { FullRebuildStateMachine, INLINE_MAP_MAX_CONCURRENCY } from './full-rebuild-state-machine.ts';
import { DatabaseLogins } from './logins.ts';

/** A time of day on the schedules' clock. */
export interface DailyTime {
  readonly hour: number;
  readonly minute: number;
}

/** Create a VPC and an RDS PostgreSQL instance. */
export interface NewDatabaseSettings {
  readonly mode: 'new';
  /**
   * @default ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * @default rds.PostgresEngineVersion.VER_17
   */
  readonly engineVersion?: rds.PostgresEngineVersion;
  /**
   * @default 20
   */
  readonly allocatedStorageGiB?: number;
  /**
   * @default false
   */
  readonly multiAz?: boolean;
  /**
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;
  /**
   * @default 'fifo'
   */
  readonly databaseName?: string;
  /**
   * Rotation interval of the generated secret; null disables rotation.
   * @default Duration.days(30)
   */
  readonly secretRotation?: Duration | null;
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
   * @default TimeZone.ETC_UTC
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

/** What every scheduled invocation carries: EventBridge Scheduler's context attributes. */
function scheduleInput(): scheduler.ScheduleTargetInput {
  return scheduler.ScheduleTargetInput.fromObject({
    [SCHEDULED_TIME_FIELD]: scheduler.ContextAttribute.scheduledTime,
    scheduleArn: scheduler.ContextAttribute.scheduleArn,
    attempt: scheduler.ContextAttribute.attemptNumber,
  });
}

/** The address inside "Name <address>", lower-cased domain kept as given. */
export function emailAddress(sender: string): string {
  const match = /<([^<>]+)>\s*$/.exec(sender);
  return (match ? match[1]! : sender).trim();
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
  public readonly schedules: Record<'incremental' | 'fullRebuild' | 'report', scheduler.Schedule>;
  /**
   * Each schedule's own role: it can invoke its one function (or start the rebuild's state
   * machine) and dead-letter to the failure queue.
   */
  public readonly schedulerRoles: Record<'incremental' | 'fullRebuild' | 'report', iam.Role>;

  constructor(scope: Construct, id: string, props: FifoLedgerStackProps) {
    super(scope, id, props);
    const deployment = this.stackName;
    const schedulesEnabled = props.schedulesEnabled ?? true;
    const timeZone = props.scheduleTimeZone ?? TimeZone.ETC_UTC;
    const interval = props.incrementalInterval ?? Duration.minutes(5);
    const intervalMinutes = interval.toMinutes();
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1) {
      throw new Error(
        `incrementalInterval must be whole minutes, at least 1, got ${interval.toHumanString()}`,
      );
    }
    const fullRebuildMemory = props.fullRebuildMemorySize ?? 1024;
    if (fullRebuildMemory < FULL_REBUILD_MIN_MEMORY_MIB) {
      throw new Error(
        `fullRebuildMemorySize must be at least ${FULL_REBUILD_MIN_MEMORY_MIB} MiB for the rebuild's heap limits ` +
          `(${FULL_REBUILD_NODE_FLAGS.join(' ')}), got ${fullRebuildMemory}`,
      );
    }
    const partitions = props.fullRebuildPartitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_FULL_REBUILD_PARTITIONS) {
      throw new Error(
        `fullRebuildPartitions must be a whole number from 1 to ${MAX_FULL_REBUILD_PARTITIONS}, got ${partitions}`,
      );
    }
    const maxConcurrency = props.fullRebuildMaxConcurrency ?? 4;
    if (
      !Number.isInteger(maxConcurrency) ||
      maxConcurrency < 1 ||
      maxConcurrency > INLINE_MAP_MAX_CONCURRENCY
    ) {
      throw new Error(
        `fullRebuildMaxConcurrency must be a whole number from 1 to ${INLINE_MAP_MAX_CONCURRENCY}, got ${maxConcurrency}`,
      );
    }

    // --- database and network -------------------------------------------------------
    // No egress but what the grants below add: the database port (allowConnectionsFrom) and
    // HTTPS to the endpoints (ServiceEndpoints), or to AWS through the VPC's own route.
    const functionsSecurityGroup = (vpc: ec2.IVpc) =>
      new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
        vpc,
        description: 'fifo-ledger functions: out to the database and the AWS API endpoints',
        allowAllOutbound: false,
      });
    let securityGroup: ec2.SecurityGroup;
    const endpointClients: ec2.IConnectable[] = [];
    // What the migration trigger waits for: the database, its ingress rule, the endpoints.
    const migrationPrerequisites: Construct[] = [];
    if (props.database.mode === 'new') {
      const settings = props.database;
      const database = new NewDatabase(this, 'Database', {
        instanceType: settings.instanceType,
        engineVersion: settings.engineVersion,
        allocatedStorageGiB: settings.allocatedStorageGiB,
        multiAz: settings.multiAz,
        deletionProtection: settings.deletionProtection,
        backupRetention: settings.backupRetention,
        databaseName: settings.databaseName,
        secretRotation: settings.secretRotation,
      });
      securityGroup = functionsSecurityGroup(database.vpc);
      if (database.rotationSecurityGroup) endpointClients.push(database.rotationSecurityGroup);
      this.database = database;
    } else {
      const settings = props.database;
      validateExisting(settings);
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'ExistingVpc', {
        vpcId: settings.vpcId,
        availabilityZones: settings.availabilityZones,
        privateSubnetIds: settings.subnetIds,
      });
      const databaseSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        'ExistingDatabaseSecurityGroup',
        settings.securityGroupId,
        { mutable: true, allowAllOutbound: true },
      );
      // The ingress rule from the functions is created under the imported group.
      migrationPrerequisites.push(databaseSecurityGroup);
      this.database = new ExistingDatabase(this, 'Database', {
        vpc,
        subnets: vpc.privateSubnets,
        securityGroup: databaseSecurityGroup,
        secret: secretsmanager.Secret.fromSecretCompleteArn(
          this,
          'ExistingDatabaseSecret',
          settings.secretArn,
        ),
        host: settings.host,
        port: settings.port,
        databaseName: settings.databaseName,
      });
      securityGroup = functionsSecurityGroup(vpc);
    }
    const database = this.database;
    database.allowConnectionsFrom(securityGroup);
    const createEndpoints = props.createVpcEndpoints ?? true;
    if (!createEndpoints && props.database.mode === 'new') {
      throw new Error(
        'createVpcEndpoints must be true with a new database: its VPC has no NAT gateway, so the functions ' +
          'reach Secrets Manager and SES only through the endpoints',
      );
    }
    const endpoints = createEndpoints
      ? new ServiceEndpoints(this, 'Endpoints', {
          vpc: database.vpc,
          subnets: database.functionSubnets,
          clients: [securityGroup, ...endpointClients],
          // Only the report function calls SES, and only when it mails.
          ses: props.reportSender !== undefined,
        })
      : undefined;
    if (!endpoints) {
      // The subnets reach Secrets Manager and SES through a NAT gateway or endpoints of their
      // own, whose addresses the stack does not know: HTTPS out, nothing else.
      securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to Secrets Manager and SES through the VPC (NAT gateway or its own endpoints)',
      );
    }

    if (endpoints && this.database instanceof NewDatabase) {
      // The first rotation runs as soon as the schedule exists; its function needs the endpoint.
      this.database.rotationSchedule?.node.addDependency(endpoints);
    }

    // --- database logins ------------------------------------------------------------
    // Three logins, three secrets: the owner (migrate only), the job login (incremental and
    // full rebuild, member of fifo_ledger_writer), the report login (member of fifo_ledger_reader).
    const newDatabase = this.database instanceof NewDatabase ? this.database : undefined;
    this.logins = new DatabaseLogins(this, 'Logins', {
      ownerSecret: database.secret,
      usernamePrefix: props.loginUsernamePrefix,
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
    });
    const logins = this.logins;

    // --- functions ------------------------------------------------------------------
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the scheduled invocations (Lambda on-failure ' +
        'destination and Scheduler DLQ); an alarm fires as soon as it holds a message.',
    });
    const onFailure = new SqsDestination(this.failureQueue);

    const common = {
      vpc: database.vpc,
      vpcSubnets: database.functionSubnets,
      securityGroups: [securityGroup],
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    };
    // Each function gets the secret of its own login as FIFO_DB_SECRET_ARN.
    const environment: Record<string, string> = {
      [ENV.deployment]: deployment,
      [ENV.allocationVersion]: String(props.allocationVersion ?? 1),
      [ENV.dbHost]: database.host,
      [ENV.dbPort]: database.port,
      ...(database.databaseName ? { [ENV.dbName]: database.databaseName } : {}),
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    };
    const writerConcurrency = (props.reserveWriterConcurrency ?? true) ? 1 : undefined;
    // A partitioned rebuild runs up to maxConcurrency invocations at once; what keeps two runs
    // apart is then the database (shared/jobs/partitions), not the reservation.
    const fullRebuildConcurrency =
      writerConcurrency === undefined ? undefined : partitions > 1 ? maxConcurrency : writerConcurrency;

    this.incremental = new FifoFunction(this, 'Incremental', {
      ...common,
      functionName: 'incremental',
      description: 'fifo-ledger: consume captured trade changes (scheduled incremental run)',
      // Shorter than the interval, so a run ends before the next tick is due.
      timeout: Duration.minutes(Math.max(1, Math.min(15, intervalMinutes - 1))),
      memorySize: 1024,
      environment: { ...environment, [ENV.dbSecretArn]: logins.jobSecret.secretArn },
      reservedConcurrentExecutions: writerConcurrency,
      // A tick that cannot start within the interval is dropped (the next tick does its work)
      // and recorded in the failure queue; a failed tick is not retried for the same reason.
      maxEventAge: Duration.minutes(Math.max(1, intervalMinutes - 1)),
      retryAttempts: 0,
      onFailure,
    });
    const fullRebuildTimeout = Duration.minutes(15);
    this.fullRebuild = new FifoFunction(this, 'FullRebuild', {
      ...common,
      functionName: 'full-rebuild',
      description: 'fifo-ledger: nightly full rebuild and drift check',
      timeout: fullRebuildTimeout,
      memorySize: fullRebuildMemory,
      nodeFlags: FULL_REBUILD_NODE_FLAGS,
      environment: {
        ...environment,
        [ENV.dbSecretArn]: logins.jobSecret.secretArn,
        [ENV.fullRebuildPartitions]: String(partitions),
      },
      reservedConcurrentExecutions: fullRebuildConcurrency,
      maxEventAge: Duration.hours(1),
      retryAttempts: 1,
      onFailure,
    });
    const sender = props.reportSender;
    const recipients = props.reportRecipients ?? [];
    this.report = new FifoFunction(this, 'Report', {
      ...common,
      functionName: 'report',
      description: 'fifo-ledger: daily report by SES',
      timeout: Duration.minutes(2),
      memorySize: 512,
      environment: {
        ...environment,
        [ENV.dbSecretArn]: logins.reportSecret.secretArn,
        ...(sender ? { [ENV.reportSender]: sender } : {}),
        ...(recipients.length > 0 ? { [ENV.reportRecipients]: recipients.join(',') } : {}),
        ...(props.reportSubjectPrefix !== undefined
          ? { [ENV.reportSubjectPrefix]: props.reportSubjectPrefix }
          : {}),
        [ENV.reportTimeZone]: (props.reportTimeZone ?? timeZone).timezoneName,
        [ENV.reportWindowHours]: String(props.reportWindowHours ?? 24),
      },
      maxEventAge: Duration.hours(1),
      // The mail goes out last: a retry after a failure almost never mails twice.
      retryAttempts: 1,
      onFailure,
    });
    this.migrate = new FifoFunction(this, 'Migrate', {
      ...common,
      functionName: 'migrate',
      description: 'fifo-ledger: apply database migrations (deploy-time trigger)',
      timeout: Duration.minutes(5),
      memorySize: 256,
      environment: {
        ...environment,
        [ENV.dbSecretArn]: database.secret.secretArn,
        // It sets the logins' passwords from these two.
        [LOGIN_SECRET_ENV.job]: logins.jobSecret.secretArn,
        [LOGIN_SECRET_ENV.report]: logins.reportSecret.secretArn,
        [ENV.migrationsDir]: '/var/task/migrations',
      },
      afterBundling: ['cp -R "{inputDir}/migrations" "{outputDir}/migrations"'],
    });

    // Each function reads its own secret; the migrate function also the logins', whose
    // passwords it sets.
    logins.jobSecret.grantRead(this.incremental);
    logins.jobSecret.grantRead(this.fullRebuild);
    logins.reportSecret.grantRead(this.report);
    for (const secret of [database.secret, logins.jobSecret, logins.reportSecret])
      secret.grantRead(this.migrate);
    if (sender) this.grantSendEmail(this.report, emailAddress(sender), recipients);
    if (sender && props.createSenderIdentity) {
      new ses.EmailIdentity(this, 'SenderIdentity', { identity: ses.Identity.email(emailAddress(sender)) });
    }

    // --- migrations on deploy -------------------------------------------------------
    const migration = new triggers.Trigger(this, 'MigrateOnDeploy', {
      handler: this.migrate,
      timeout: Duration.minutes(5),
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      executeOnHandlerChange: true,
    });
    migration.executeAfter(database, ...migrationPrerequisites, ...(endpoints ? [endpoints] : []));
    if (props.migrationRunToken) {
      // A changed property makes CloudFormation update the trigger, which invokes it again.
      const resource = migration.node.findChild('Default').node.defaultChild as CfnResource;
      resource.addPropertyOverride('RunToken', props.migrationRunToken);
    }
    // A login rotation starts as its schedule is created, and logs in as the login first: the
    // migrate function must have created it.
    for (const rotation of logins.rotationSchedules) rotation.node.addDependency(migration);
    // The functions connect as their logins, so they are created (or switched to them, on an
    // upgrade) only once the migration has made the logins; new code also meets its schema.
    for (const fn of [this.incremental, this.fullRebuild, this.report]) fn.node.addDependency(migration);

    // --- partitioned full rebuild ----------------------------------------------------
    // Built whatever the partition count, so that a partitioned run can also be started by
    // hand; the nightly schedule starts it when fullRebuildPartitions is above 1.
    this.fullRebuildStateMachine = new FullRebuildStateMachine(this, 'FullRebuildStateMachine', {
      fullRebuild: this.fullRebuild,
      // Never more partitions at once than the function may run: the others would be throttled.
      maxConcurrency: fullRebuildConcurrency ?? maxConcurrency,
      invocationTimeout: fullRebuildTimeout.plus(Duration.minutes(1)),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const stateMachineRole = this.fullRebuildStateMachine.stateMachine.role;
    Validations.of(stateMachineRole).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.fullRebuild.node.defaultChild as CfnResource)}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the full-rebuild function and its versions and ' +
          'aliases (ARN:*); the state machine invokes that one function only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Step Functions needs the CloudWatch Logs delivery actions (CreateLogDelivery and the like) and ' +
          'X-Ray PutTraceSegments on "*": these actions take no resource ARN.',
      },
    );

    // --- schedules ------------------------------------------------------------------
    // One role per schedule; LambdaInvoke grants it lambda:InvokeFunction on its one function,
    // StepFunctionsStartExecution states:StartExecution on its one state machine.
    const daily = (time: DailyTime) =>
      scheduler.ScheduleExpression.cron({ minute: String(time.minute), hour: String(time.hour), timeZone });
    const schedule = (
      id: string,
      target: FifoFunction | sfn.IStateMachine,
      expression: scheduler.ScheduleExpression,
      description: string,
    ) => {
      const isFunction = target instanceof FifoFunction;
      const schedulerRole = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
        }),
        description: `EventBridge Scheduler: ${description}: ${isFunction ? 'invoke it' : 'start its state machine'}, dead-letter to the failure queue`,
      });
      const delivery: targets.ScheduleTargetBaseProps = {
        role: schedulerRole,
        input: scheduleInput(),
        // Scheduler retries only failed deliveries (the invocation is asynchronous, and so is
        // the start of an execution); an undeliverable tick lands in the failure queue.
        retryAttempts: 2,
        maxEventAge:
          target === this.incremental
            ? Duration.minutes(Math.max(1, intervalMinutes - 1))
            : Duration.hours(1),
        deadLetterQueue: this.failureQueue,
      };
      const created = new scheduler.Schedule(this, id, {
        schedule: expression,
        description,
        enabled: schedulesEnabled,
        target: isFunction
          ? new targets.LambdaInvoke(target, delivery)
          : new targets.StepFunctionsStartExecution(target, delivery),
      });
      // Runs start only once the schema exists.
      created.node.addDependency(migration);
      if (isFunction) {
        Validations.of(schedulerRole).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(target.node.defaultChild as CfnResource)}.Arn>:*]`,
          reason:
            'LambdaInvoke grants lambda:InvokeFunction on the function and its versions and aliases ' +
            '(ARN:*); the role belongs to this one schedule and can invoke this one function only.',
        });
      }
      return { schedule: created, role: schedulerRole };
    };
    const scheduled = {
      incremental: schedule(
        'IncrementalSchedule',
        this.incremental,
        scheduler.ScheduleExpression.rate(interval),
        `fifo-ledger incremental run every ${intervalMinutes} minutes`,
      ),
      fullRebuild: schedule(
        'FullRebuildSchedule',
        partitions > 1 ? this.fullRebuildStateMachine.stateMachine : this.fullRebuild,
        daily(props.fullRebuildTime ?? { hour: 2, minute: 30 }),
        'fifo-ledger nightly full rebuild',
      ),
      report: schedule(
        'ReportSchedule',
        this.report,
        daily(props.reportTime ?? { hour: 7, minute: 0 }),
        'fifo-ledger daily report',
      ),
    };

    this.schedules = {
      incremental: scheduled.incremental.schedule,
      fullRebuild: scheduled.fullRebuild.schedule,
      report: scheduled.report.schedule,
    };
    this.schedulerRoles = {
      incremental: scheduled.incremental.role,
      fullRebuild: scheduled.fullRebuild.role,
      report: scheduled.report.role,
    };

    // --- alarms ---------------------------------------------------------------------
    this.alarms = new FifoAlarms(this, 'Alarms', {
      deployment,
      functions: { Incremental: this.incremental, FullRebuild: this.fullRebuild, Report: this.report },
      fullRebuildStateMachine: this.fullRebuildStateMachine.stateMachine,
      failureQueue: this.failureQueue,
      email: props.alarmEmail,
      schedulesEnabled,
      incrementalInterval: interval,
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
      incrementalInterval: interval,
      freshnessLagThreshold: props.freshnessLagThreshold,
    });

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
      value: database.secret.secretArn,
    });
    new CfnOutput(this, 'JobSecretArn', {
      description: `Login ${logins.usernames.job}: incremental and full rebuild (fifo_ledger_writer)`,
      value: logins.jobSecret.secretArn,
    });
    new CfnOutput(this, 'ReportSecretArn', {
      description: `Login ${logins.usernames.report}: the report (fifo_ledger_reader)`,
      value: logins.reportSecret.secretArn,
    });
    new CfnOutput(this, 'DatabaseHost', { value: database.host });
  }

  /**
   * ses:SendEmail on the identities SES authorizes a send against (the sender's address and
   * domain, and in the sandbox the recipients'), with the From address pinned to the sender's:
   * without the condition the domain identity would let the role send as any of its addresses.
   */
  private grantSendEmail(fn: FifoFunction, sender: string, recipients: string[]): void {
    const identities = new Set<string>();
    for (const address of [sender, ...recipients]) {
      identities.add(address);
      const domain = address.slice(address.lastIndexOf('@') + 1);
      if (domain) identities.add(domain);
    }
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [...identities].map((identity) =>
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
        conditions: { StringEquals: { 'ses:FromAddress': sender } },
      }),
    );
  }
}

function validateExisting(settings: ExistingDatabaseSettings): void {
  if (settings.subnetIds.length === 0 || settings.availabilityZones.length === 0) {
    throw new Error('an existing database needs subnetIds and availabilityZones, got none');
  }
  if (settings.subnetIds.length % settings.availabilityZones.length !== 0) {
    throw new Error(
      `subnetIds must hold the same number of subnets for each availability zone, got ${settings.subnetIds.length} ` +
        `subnets for ${settings.availabilityZones.length} zones`,
    );
  }
}
