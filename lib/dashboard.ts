/**
 * The operator's CloudWatch dashboard: freshness, runs and durations per job, drift, data
 * quality, errors per function and the failure queue. Every fifo-ledger graph reads the
 * exact series a handler emits (functions/commons/constants.ts METRICS, through fifoMetric);
 * errors, the report's duration and the queue depth are AWS/Lambda and AWS/SQS metrics.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, type MetricDefinition } from '../functions/commons/constants.ts';
import { ALARM_RUNBOOK, fifoMetric } from './alarms.ts';

export interface FifoDashboardProps {
  /** The deployment dimension's value: the handlers get the same through FIFO_DEPLOYMENT. */
  readonly deployment: string;
  /** The incremental function (its errors). */
  readonly incremental: lambda.IFunction;
  /** The full-rebuild function (its errors). */
  readonly fullRebuild: lambda.IFunction;
  /** The report function (its errors, and its Lambda duration: the report emits none of its own). */
  readonly report: lambda.IFunction;
  /** The queue that receives failed and expired invocations (its depth). */
  readonly failureQueue: sqs.IQueue;
  /**
   * Alarms shown in a status row at the top.
   * @default - no alarm status row
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /**
   * The dashboard's name. Dashboards are global to the account, so the name carries the region.
   * @default - `<stack name>-<region>`
   */
  readonly dashboardName?: string;
  /**
   * The time range the dashboard opens with.
   * @default Duration.days(3) (three nightly rebuilds and reports)
   */
  readonly defaultInterval?: Duration;
  /**
   * The incremental schedule's interval: the period of the per-run graphs.
   * @default Duration.minutes(5)
   */
  readonly incrementalInterval?: Duration;
  /**
   * The freshness alarm's threshold, drawn as a line on the lag graph.
   * @default Duration.minutes(15)
   */
  readonly freshnessLagThreshold?: Duration;
}

/** The dashboard of a fifo-ledger deployment. */
export class FifoDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: FifoDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const interval = props.incrementalInterval ?? Duration.minutes(5);
    const lagThreshold = props.freshnessLagThreshold ?? Duration.minutes(15);
    const hour = Duration.hours(1);
    const metric = (definition: MetricDefinition, statistic: string, period: Duration, label: string) =>
      fifoMetric(definition, props.deployment, { statistic, period }).with({ label });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `${stack.stackName}-${stack.region}`,
      defaultInterval: props.defaultInterval ?? Duration.days(3),
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# fifo-ledger: ${props.deployment}\n` +
          'Built by the fifo-ledger CDK stack (lib/dashboard.ts): changes made in the console are lost on ' +
          `the next deploy. Every alarm has a runbook section in \`${ALARM_RUNBOOK}\`; start with \`fifo health\`.`,
        width: 24,
        height: 2,
      }),
    );
    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [...props.alarms],
          width: 24,
          height: 3,
        }),
      );
    }

    // Freshness: the age of the oldest unconsumed change and how many wait, after every run.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Freshness lag: oldest unprocessed change (s)',
        left: [metric(METRICS.freshnessLag, 'Maximum', interval, 'lag')],
        leftAnnotations: [{ value: lagThreshold.toSeconds(), label: 'alarm threshold' }],
        leftYAxis: { min: 0, showUnits: false },
        width: 9,
      }),
      new cloudwatch.GraphWidget({
        title: 'Pending changes',
        left: [metric(METRICS.pendingChanges, 'Maximum', interval, 'pending changes')],
        leftYAxis: { min: 0, showUnits: false },
        width: 9,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Latest run',
        metrics: [
          metric(METRICS.freshnessLag, 'Maximum', interval, 'lag (s)'),
          metric(METRICS.pendingChanges, 'Maximum', interval, 'pending changes'),
        ],
        width: 6,
        height: 6,
      }),
    );

    // Runs and durations per job: the incremental runs every few minutes (left axis), the
    // nightly and daily jobs once a day (right axis).
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Runs per hour',
        left: [metric(METRICS.incrementalRuns, 'Sum', hour, 'incremental runs')],
        right: [
          metric(METRICS.fullRebuildRuns, 'Sum', hour, 'full rebuild runs'),
          metric(METRICS.fullRebuildSucceeded, 'Sum', hour, 'full rebuilds succeeded'),
          metric(METRICS.reportRuns, 'Sum', hour, 'report runs'),
          metric(METRICS.reportsSent, 'Sum', hour, 'reports sent'),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration per job (ms)',
        left: [metric(METRICS.incrementalDuration, 'Maximum', interval, 'incremental')],
        right: [
          metric(METRICS.fullRebuildDuration, 'Maximum', hour, 'full rebuild'),
          props.report.metricDuration({ statistic: 'Maximum', period: hour, label: 'report (Lambda)' }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
    );

    // What the nightly proof found, and what the engine refuses or cannot match.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Drift found by the full rebuild',
        left: [metric(METRICS.driftRows, 'Maximum', hour, 'drifted rows')],
        right: [metric(METRICS.driftUsd, 'Maximum', hour, 'drift (USD, Σ |Δ pnl|)')],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rejected trades and unmatched sells',
        left: [
          metric(METRICS.rejectedTrades, 'Maximum', interval, 'rejected trades'),
          metric(METRICS.unmatchedSells, 'Maximum', interval, 'unmatched sells'),
        ],
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
    );

    // Failures: Lambda errors per function, and what reached the failure queue.
    const period = Duration.minutes(5);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Errors per function',
        left: [
          props.incremental.metricErrors({ statistic: 'Sum', period, label: 'incremental' }),
          props.fullRebuild.metricErrors({ statistic: 'Sum', period, label: 'full rebuild' }),
          props.report.metricErrors({ statistic: 'Sum', period, label: 'report' }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Failure queue: messages waiting',
        left: [
          props.failureQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period,
            label: 'failed or expired invocations',
          }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
    );

    this.url =
      `https://${stack.region}.console.aws.amazon.com/cloudwatch/home?region=${stack.region}` +
      `#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }
}
