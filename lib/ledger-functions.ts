/**
 * The four functions (incremental, full rebuild, report, migrate), the failure queue their
 * scheduled invocations fail to, and what each may read or send: its own login's secret, SES
 * for the report (README, "Database logins and secrets", "At-least-once delivery").
 *
 * Not a construct of its own: it adds its resources to the stack under the ids they had before
 * the stack was split, because a logical id follows the construct path and a new level would
 * replace every function on the next deploy.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  ENV,
  FULL_REBUILD_MIN_MEMORY_MIB,
  FULL_REBUILD_NODE_FLAGS,
  MAX_FULL_REBUILD_PARTITIONS,
} from '../functions/commons/constants.ts';
import { LOGIN_SECRET_ENV } from '../shared/db/logins.ts';
import { senderAddress } from '../shared/util/sender-address.ts';
import type { IFifoDatabase } from './database.ts';
import { FifoFunction } from './fifo-function.ts';
import type { StackSettings } from './fifo-ledger-stack.ts';
import type { DatabaseLogins } from './logins.ts';
import { problemOf, type SettingProblem, wholeNumberProblem } from './setting-problems.ts';

/** The full rebuild's timeout: Lambda's limit (the state machine's task timeout follows it). */
export const FULL_REBUILD_TIMEOUT = Duration.minutes(15);

/** Lambda's largest memory size, in MiB. */
const LAMBDA_MAX_MEMORY_MIB = 10240;

/** The rules of the functions' settings: checked by the stack, reported by lib/config.ts. */
export function functionSettingProblems(
  settings: Pick<StackSettings, 'fullRebuildMemorySize' | 'fullRebuildPartitions'>,
): SettingProblem[] {
  const memory = settings.fullRebuildMemorySize;
  return [
    ...problemOf(
      'fullRebuildMemorySize',
      memory < FULL_REBUILD_MIN_MEMORY_MIB
        ? `must be at least ${FULL_REBUILD_MIN_MEMORY_MIB} MiB for the rebuild's heap limits ` +
            `(${FULL_REBUILD_NODE_FLAGS.join(' ')}), got ${memory}`
        : wholeNumberProblem(memory, FULL_REBUILD_MIN_MEMORY_MIB, LAMBDA_MAX_MEMORY_MIB),
    ),
    ...problemOf(
      'fullRebuildPartitions',
      wholeNumberProblem(settings.fullRebuildPartitions, 1, MAX_FULL_REBUILD_PARTITIONS),
    ),
  ];
}

export interface LedgerFunctionsProps {
  /** The settings, defaults applied. */
  readonly settings: StackSettings;
  /** The deployment dimension's value (the stack name). */
  readonly deployment: string;
  readonly database: IFifoDatabase;
  readonly logins: DatabaseLogins;
  /** The functions' security group (FunctionsNetwork). */
  readonly securityGroup: ec2.ISecurityGroup;
}

/** The functions, their failure queue and their grants, added to `scope` (the stack). */
export class LedgerFunctions {
  public readonly incremental: FifoFunction;
  public readonly fullRebuild: FifoFunction;
  public readonly report: FifoFunction;
  public readonly migrate: FifoFunction;
  public readonly failureQueue: sqs.Queue;
  /**
   * The full-rebuild function's reserved concurrency: 1, or the partitions the state machine
   * runs at once when partitioned; undefined when writers reserve none.
   */
  public readonly fullRebuildConcurrency?: number;

  constructor(scope: Construct, props: LedgerFunctionsProps) {
    const { settings, database, logins } = props;
    const intervalMinutes = settings.incrementalInterval.toMinutes();
    this.failureQueue = new sqs.Queue(scope, 'FailureQueue', {
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
      securityGroups: [props.securityGroup],
      logRetention: settings.logRetention,
    };
    // Each function gets the secret of its own login as FIFO_DB_SECRET_ARN.
    const environment: Record<string, string> = {
      [ENV.deployment]: props.deployment,
      [ENV.allocationVersion]: String(settings.allocationVersion),
      [ENV.dbHost]: database.host,
      [ENV.dbPort]: database.port,
      ...(database.databaseName ? { [ENV.dbName]: database.databaseName } : {}),
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
    };
    const writerConcurrency = settings.reserveWriterConcurrency ? 1 : undefined;
    // A partitioned rebuild runs up to maxConcurrency invocations at once; what keeps two runs
    // apart is then the database (shared/jobs/partitions), not the reservation.
    this.fullRebuildConcurrency =
      writerConcurrency === undefined
        ? undefined
        : settings.fullRebuildPartitions > 1
          ? settings.fullRebuildMaxConcurrency
          : writerConcurrency;

    this.incremental = new FifoFunction(scope, 'Incremental', {
      ...common,
      handlerFolder: 'incremental',
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
    this.fullRebuild = new FifoFunction(scope, 'FullRebuild', {
      ...common,
      handlerFolder: 'full-rebuild',
      description: 'fifo-ledger: nightly full rebuild and drift check',
      timeout: FULL_REBUILD_TIMEOUT,
      memorySize: settings.fullRebuildMemorySize,
      nodeFlags: FULL_REBUILD_NODE_FLAGS,
      environment: {
        ...environment,
        [ENV.dbSecretArn]: logins.jobSecret.secretArn,
        [ENV.fullRebuildPartitions]: String(settings.fullRebuildPartitions),
      },
      reservedConcurrentExecutions: this.fullRebuildConcurrency,
      maxEventAge: Duration.hours(1),
      retryAttempts: 1,
      onFailure,
    });
    const sender = settings.reportSender;
    const recipients = settings.reportRecipients;
    this.report = new FifoFunction(scope, 'Report', {
      ...common,
      handlerFolder: 'report',
      description: 'fifo-ledger: daily report by SES',
      timeout: Duration.minutes(2),
      memorySize: 512,
      environment: {
        ...environment,
        [ENV.dbSecretArn]: logins.reportSecret.secretArn,
        ...(sender ? { [ENV.reportSender]: sender } : {}),
        ...(recipients.length > 0 ? { [ENV.reportRecipients]: recipients.join(',') } : {}),
        ...(settings.reportSubjectPrefix !== undefined
          ? { [ENV.reportSubjectPrefix]: settings.reportSubjectPrefix }
          : {}),
        [ENV.reportTimeZone]: settings.reportTimeZone.timezoneName,
        [ENV.reportWindowHours]: String(settings.reportWindowHours),
      },
      maxEventAge: Duration.hours(1),
      // The mail goes out last: a retry after a failure almost never mails twice.
      retryAttempts: 1,
      onFailure,
    });
    this.migrate = new FifoFunction(scope, 'Migrate', {
      ...common,
      handlerFolder: 'migrate',
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
    if (sender) grantSendEmail(this.report, senderAddress(sender), recipients);
    if (sender && settings.createSenderIdentity) {
      new ses.EmailIdentity(scope, 'SenderIdentity', { identity: ses.Identity.email(senderAddress(sender)) });
    }
  }
}

/**
 * ses:SendEmail on the identities SES authorizes a send against (the sender's address and
 * domain, and in the sandbox the recipients'), with the From address pinned to the sender's:
 * without the condition the domain identity would let the role send as any of its addresses.
 */
function grantSendEmail(fn: FifoFunction, sender: string, recipients: readonly string[]): void {
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
        Stack.of(fn).formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
      ),
      conditions: { StringEquals: { 'ses:FromAddress': sender } },
    }),
  );
}
