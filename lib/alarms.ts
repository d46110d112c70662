/**
 * The alarms and where they go: an SNS topic (TLS only, CloudWatch allowed to publish) with
 * an optional email subscription. Metric names, units, namespace and dimensions come from
 * functions/commons/constants.ts, the module the handlers emit them with. Every alarm's
 * description links its runbook section in docs/alarms.md.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  METRICS,
  METRICS_NAMESPACE,
  type MetricDefinition,
  type MetricUnitName,
  metricDimensions,
} from '../functions/commons/constants.ts';
import { type SettingProblem, throwOnProblems } from './setting-problems.ts';

const CLOUDWATCH_UNITS: Record<MetricUnitName, cloudwatch.Unit> = {
  Count: cloudwatch.Unit.COUNT,
  Seconds: cloudwatch.Unit.SECONDS,
  Milliseconds: cloudwatch.Unit.MILLISECONDS,
  None: cloudwatch.Unit.NONE,
};

/** A fifo-ledger metric as the handlers emit it for `deployment`: same name, unit and dimensions. */
export function fifoMetric(
  definition: MetricDefinition,
  deployment: string,
  options: { statistic: string; period: Duration },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: definition.name,
    dimensionsMap: { ...metricDimensions(deployment) },
    unit: CLOUDWATCH_UNITS[definition.unit],
    statistic: options.statistic,
    period: options.period,
  });
}

/** The runbook, as a path from the repository root: one section per alarm. */
export const ALARM_RUNBOOK = 'docs/alarms.md';

/** Where an alarm's description sends the operator: the runbook section `anchor`. */
function runbookLink(anchor: string): string {
  return `Runbook: ${ALARM_RUNBOOK}#${anchor}`;
}

/** "FullRebuild" -> "full-rebuild": the runbook anchor stem of a function's errors alarm. */
function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export interface FifoAlarmsProps {
  /** The deployment dimension's value: the handlers get the same through FIFO_DEPLOYMENT. */
  readonly deployment: string;
  /** The functions whose errors page (the scheduled ones). */
  readonly functions: Record<string, lambda.IFunction>;
  /** The queue that receives failed and expired invocations. */
  readonly failureQueue: sqs.IQueue;
  /**
   * The partitioned rebuild's state machine, whose failed executions page.
   * @default - no state machine alarm
   */
  readonly fullRebuildStateMachine?: sfn.IStateMachine;
  /**
   * The address that gets every alarm and recovery.
   * @default - no subscription (subscribe to the topic yourself)
   */
  readonly email?: string;
  /**
   * The schedules run: when false (rollback), the alarms that expect runs stop notifying.
   * @default true
   */
  readonly schedulesEnabled?: boolean;
  /**
   * The incremental schedule's interval, which is the freshness metric's period.
   * @default Duration.minutes(5)
   */
  readonly incrementalInterval?: Duration;
  /**
   * Alarm when the oldest unprocessed change is older than this.
   * @default Duration.minutes(15)
   */
  readonly freshnessLagThreshold?: Duration;
  /**
   * Consecutive incremental periods over the threshold or without any datapoint before the
   * freshness alarm fires (absorbs one late tick).
   * @default 3
   */
  readonly freshnessEvaluationPeriods?: number;
  /**
   * Alarm when no full rebuild has succeeded for this long (whole hours, at most 168).
   * @default Duration.hours(26)
   */
  readonly fullRebuildMaxAge?: Duration;
  /**
   * Alarm when a full rebuild finds more drifted rows than this.
   * @default 0
   */
  readonly driftRowsThreshold?: number;
}

/** The defaults of FifoAlarmsProps that its rules need too. */
const DEFAULTS = {
  incrementalInterval: Duration.minutes(5),
  freshnessLagThreshold: Duration.minutes(15),
  freshnessEvaluationPeriods: 3,
  fullRebuildMaxAge: Duration.hours(26),
} as const;

/** The windows CloudWatch refuses, or a freshness alarm that would fire on every quiet tick. */
export function alarmSettingProblems(
  props: Pick<
    FifoAlarmsProps,
    'incrementalInterval' | 'freshnessLagThreshold' | 'freshnessEvaluationPeriods' | 'fullRebuildMaxAge'
  >,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const interval = props.incrementalInterval ?? DEFAULTS.incrementalInterval;
  const lagThreshold = props.freshnessLagThreshold ?? DEFAULTS.freshnessLagThreshold;
  const periods = props.freshnessEvaluationPeriods ?? DEFAULTS.freshnessEvaluationPeriods;
  const maxAgeHours = (props.fullRebuildMaxAge ?? DEFAULTS.fullRebuildMaxAge).toHours({ integral: false });
  if (lagThreshold.toSeconds({ integral: false }) < interval.toSeconds({ integral: false })) {
    problems.push({ setting: 'freshnessLagThreshold', message: 'must be at least the incremental interval' });
  }
  // One period per interval: CloudWatch caps sub-hour periods x evaluations at one day.
  if (interval.toMinutes({ integral: false }) * periods > 24 * 60) {
    problems.push({
      setting: 'freshnessEvaluationPeriods',
      message: 'times the incremental interval must be at most one day (a CloudWatch limit)',
    });
  }
  // Hourly periods, one per hour of the window: CloudWatch caps them at 7 days.
  if (!Number.isInteger(maxAgeHours) || maxAgeHours < 1 || maxAgeHours > 168) {
    problems.push({
      setting: 'fullRebuildMaxAge',
      message: `must be whole hours from 1 to 168, got ${maxAgeHours}`,
    });
  }
  return problems;
}

/** The alarm topic and the alarms of a fifo-ledger deployment. */
export class FifoAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly freshness: cloudwatch.Alarm;
  public readonly fullRebuildMissed: cloudwatch.Alarm;
  public readonly drift: cloudwatch.Alarm;
  public readonly failureQueueNotEmpty: cloudwatch.Alarm;
  public readonly functionErrors: Record<string, cloudwatch.Alarm> = {};
  /** Failed executions of the partitioned rebuild's state machine, when there is one. */
  public readonly fullRebuildExecutionFailed?: cloudwatch.Alarm;
  /** Every alarm above, in creation order (for a dashboard's alarm status widget). */
  public readonly all: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: FifoAlarmsProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const expectRuns = props.schedulesEnabled ?? true;
    throwOnProblems(alarmSettingProblems(props));

    this.topic = new sns.Topic(this, 'Topic', { displayName: `${prefix} alarms`, enforceSSL: true });
    // enforceSSL gives the topic a policy, and a topic policy replaces SNS's default one, which
    // is what lets CloudWatch publish. Without this statement every alarm action fails with
    // "no resource-based policy allows the SNS:Publish action" and no mail is ever sent.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const notify = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      return alarm;
    };

    // Freshness: the lag is the age of the oldest change not yet consumed, emitted by every
    // incremental run (0 when nothing waits), so a quiet market reads 0 and never pages.
    // No datapoint means no run: missing data is breaching.
    const interval = props.incrementalInterval ?? DEFAULTS.incrementalInterval;
    const lagThreshold = props.freshnessLagThreshold ?? DEFAULTS.freshnessLagThreshold;
    const freshnessPeriods = props.freshnessEvaluationPeriods ?? DEFAULTS.freshnessEvaluationPeriods;
    this.freshness = notify(
      new cloudwatch.Alarm(this, 'Freshness', {
        alarmName: `${prefix}-freshness`,
        alarmDescription:
          `Unprocessed trade changes older than ${lagThreshold.toMinutes()} min, or the incremental run ` +
          `stopped reporting (no datapoint for ${freshnessPeriods} periods). ${runbookLink('freshness')}`,
        metric: fifoMetric(METRICS.freshnessLag, props.deployment, {
          statistic: 'Maximum',
          period: interval,
        }),
        threshold: lagThreshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: freshnessPeriods,
        datapointsToAlarm: freshnessPeriods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        actionsEnabled: expectRuns,
      }),
    );

    // Nightly rebuild: the sum of successes over each hour; every hour without one (no
    // datapoint at all included) is breaching, and maxAge hours in a row fire. Hourly
    // periods keep period x evaluations within CloudWatch's 7-day limit.
    const maxAgeHours = (props.fullRebuildMaxAge ?? DEFAULTS.fullRebuildMaxAge).toHours();
    this.fullRebuildMissed = notify(
      new cloudwatch.Alarm(this, 'FullRebuildMissed', {
        alarmName: `${prefix}-full-rebuild-missed`,
        alarmDescription:
          `No full rebuild has succeeded for ${maxAgeHours} hours (a rebuild that meets a held lock waits, ` +
          `then fails). ${runbookLink('full-rebuild-missed')}`,
        metric: fifoMetric(METRICS.fullRebuildSucceeded, props.deployment, {
          statistic: 'Sum',
          period: Duration.hours(1),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: maxAgeHours,
        datapointsToAlarm: maxAgeHours,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        actionsEnabled: expectRuns,
      }),
    );

    // Drift: the stored allocations differed from a recomputation. The rebuild has already
    // corrected them; the alarm stays until a rebuild finds none (missing data: keep state).
    const driftThreshold = props.driftRowsThreshold ?? 0;
    this.drift = notify(
      new cloudwatch.Alarm(this, 'Drift', {
        alarmName: `${prefix}-drift`,
        alarmDescription:
          `A full rebuild found more than ${driftThreshold} drifted allocation or lot rows (see DriftUsd and the ` +
          'run log): the stored state was wrong for changes already consumed. The rebuild applied the ' +
          `correction; find what wrote the difference. ${runbookLink('drift')}`,
        metric: fifoMetric(METRICS.driftRows, props.deployment, {
          statistic: 'Maximum',
          period: Duration.hours(1),
        }),
        threshold: driftThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
    );

    this.failureQueueNotEmpty = notify(
      new cloudwatch.Alarm(this, 'FailureQueueNotEmpty', {
        alarmName: `${prefix}-failed-invocations`,
        alarmDescription:
          'Scheduled invocations failed or expired and were sent to the failure queue. Read the messages, ' +
          `fix the cause, then purge the queue. ${runbookLink('failed-invocations')}`,
        metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      this.functionErrors[name] = notify(
        new cloudwatch.Alarm(this, `${name}Errors`, {
          alarmName: `${prefix}-${name}-errors`,
          alarmDescription: `The ${name} function failed (Lambda Errors). ${runbookLink(`${kebabCase(name)}-errors`)}`,
          metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    // A partitioned run that failed: the Catch ran finish (FullRebuildSucceeded 0), then the
    // execution ended failed; or a plan or finish failed for good. Not tied to the schedules:
    // any failed execution, a manual one included, is worth a look.
    if (props.fullRebuildStateMachine) {
      this.fullRebuildExecutionFailed = notify(
        new cloudwatch.Alarm(this, 'FullRebuildExecutionFailed', {
          alarmName: `${prefix}-full-rebuild-execution-failed`,
          alarmDescription:
            'An execution of the partitioned full rebuild state machine failed (Step Functions ExecutionsFailed): ' +
            `a partition failed after its retries, or the plan or the finish failed. ${runbookLink('full-rebuild-execution-failed')}`,
          metric: props.fullRebuildStateMachine.metricFailed({
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    this.all = [
      this.freshness,
      this.fullRebuildMissed,
      this.drift,
      this.failureQueueNotEmpty,
      ...Object.values(this.functionErrors),
      ...(this.fullRebuildExecutionFailed ? [this.fullRebuildExecutionFailed] : []),
    ];
  }
}
