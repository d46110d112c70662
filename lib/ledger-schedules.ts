/**
 * The three EventBridge Scheduler schedules, each with its own role: it can invoke its one
 * function (or start the rebuild's state machine) and dead-letter to the failure queue
 * (README, "At-least-once delivery").
 *
 * Not a construct of its own: it adds its resources to the stack under the ids they had before
 * the stack was split, because a logical id follows the construct path and a new level would
 * replace every schedule on the next deploy.
 */
import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { SCHEDULED_TIME_FIELD } from '../functions/commons/constants.ts';
import { FifoFunction } from './fifo-function.ts';
import type { DailyTime, StackSettings } from './fifo-ledger-stack.ts';

export type ScheduleName = 'incremental' | 'fullRebuild' | 'report';

export interface LedgerSchedulesProps {
  /** The settings, defaults applied. */
  readonly settings: StackSettings;
  readonly incremental: FifoFunction;
  /** What the nightly schedule starts: the function, or the partitioned rebuild's state machine. */
  readonly fullRebuild: FifoFunction | sfn.IStateMachine;
  readonly report: FifoFunction;
  /** Where undeliverable ticks go. */
  readonly failureQueue: sqs.IQueue;
  /** Runs start only once this (the migration) is done: the schema must exist. */
  readonly after: Construct;
}

/** What every scheduled invocation carries: EventBridge Scheduler's context attributes. */
function scheduleInput(): scheduler.ScheduleTargetInput {
  return scheduler.ScheduleTargetInput.fromObject({
    [SCHEDULED_TIME_FIELD]: scheduler.ContextAttribute.scheduledTime,
    scheduleArn: scheduler.ContextAttribute.scheduleArn,
    attempt: scheduler.ContextAttribute.attemptNumber,
  });
}

/** The schedules and their roles, added to `scope` (the stack). */
export class LedgerSchedules {
  public readonly schedules: Record<ScheduleName, scheduler.Schedule>;
  /** Each schedule's own role. */
  public readonly roles: Record<ScheduleName, iam.Role>;

  constructor(scope: Construct, props: LedgerSchedulesProps) {
    const { settings } = props;
    const interval = settings.incrementalInterval;
    const intervalMinutes = interval.toMinutes();
    const daily = (time: DailyTime) =>
      scheduler.ScheduleExpression.cron({
        minute: String(time.minute),
        hour: String(time.hour),
        timeZone: settings.scheduleTimeZone,
      });
    // One role per schedule; LambdaInvoke grants it lambda:InvokeFunction on its one function,
    // StepFunctionsStartExecution states:StartExecution on its one state machine.
    const schedule = (
      id: string,
      target: FifoFunction | sfn.IStateMachine,
      expression: scheduler.ScheduleExpression,
      description: string,
      maxEventAge: Duration,
    ) => {
      const isFunction = target instanceof FifoFunction;
      const role = new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
        }),
        description: `EventBridge Scheduler: ${description}: ${isFunction ? 'invoke it' : 'start its state machine'}, dead-letter to the failure queue`,
      });
      const delivery: targets.ScheduleTargetBaseProps = {
        role,
        input: scheduleInput(),
        // Scheduler retries only failed deliveries (the invocation is asynchronous, and so is
        // the start of an execution); an undeliverable tick lands in the failure queue.
        retryAttempts: 2,
        maxEventAge,
        deadLetterQueue: props.failureQueue,
      };
      const created = new scheduler.Schedule(scope, id, {
        schedule: expression,
        description,
        enabled: settings.schedulesEnabled,
        target: isFunction
          ? new targets.LambdaInvoke(target, delivery)
          : new targets.StepFunctionsStartExecution(target, delivery),
      });
      created.node.addDependency(props.after);
      if (isFunction) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(target.node.defaultChild as CfnResource)}.Arn>:*]`,
          reason:
            'LambdaInvoke grants lambda:InvokeFunction on the function and its versions and aliases ' +
            '(ARN:*); the role belongs to this one schedule and can invoke this one function only.',
        });
      }
      return { schedule: created, role };
    };
    const incremental = schedule(
      'IncrementalSchedule',
      props.incremental,
      scheduler.ScheduleExpression.rate(interval),
      `fifo-ledger incremental run every ${intervalMinutes} minutes`,
      // A tick older than the interval is dropped: the next one does its work.
      Duration.minutes(Math.max(1, intervalMinutes - 1)),
    );
    const fullRebuild = schedule(
      'FullRebuildSchedule',
      props.fullRebuild,
      daily(settings.fullRebuildTime),
      'fifo-ledger nightly full rebuild',
      Duration.hours(1),
    );
    const report = schedule(
      'ReportSchedule',
      props.report,
      daily(settings.reportTime),
      'fifo-ledger daily report',
      Duration.hours(1),
    );
    this.schedules = {
      incremental: incremental.schedule,
      fullRebuild: fullRebuild.schedule,
      report: report.schedule,
    };
    this.roles = { incremental: incremental.role, fullRebuild: fullRebuild.role, report: report.role };
  }
}
