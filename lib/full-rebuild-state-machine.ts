/**
 * The partitioned nightly rebuild on AWS (README, "Partitioned nightly rebuild on AWS"): plan →
 * an inline Map over the planned partitions, each iteration one invocation of the full-rebuild
 * function → finish. Every step is the same function, told what to do by its event's `action`
 * (functions/full-rebuild/index.ts). A failure of the Map is caught and still runs finish, so
 * the run is logged failed and FullRebuildSucceeded 0 reaches the alarms; the execution then
 * ends failed, for the ExecutionsFailed alarm. Logs (every event) and X-Ray tracing are on.
 */
import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { problemOf, throwOnProblems, wholeNumberProblem } from './setting-problems.ts';

/** Lambda's own errors that say nothing about the work: the invocation can be sent again. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;
/** Lambda refused the invocation: the account's or the function's concurrency was used up. */
export const LAMBDA_THROTTLED = 'Lambda.TooManyRequestsException';
/** A partition ran out of time: Step Functions' task timeout, or the function's own. */
export const PARTITION_TIMEOUTS = [sfn.Errors.TIMEOUT, 'Sandbox.Timedout'] as const;

/** Every invocation retries Lambda's own errors the same way: soon, a few times, jittered. */
const SERVICE_ERROR_RETRY: sfn.RetryProps = {
  errors: [...LAMBDA_SERVICE_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 6,
  jitterStrategy: sfn.JitterType.FULL,
};

/** The most iterations an inline Map runs at once. */
export const INLINE_MAP_MAX_CONCURRENCY = 40;

/** The rule of the Map's MaxConcurrency (the stack checks fullRebuildMaxConcurrency with it). */
export function mapConcurrencyProblem(maxConcurrency: number): string | undefined {
  return wholeNumberProblem(maxConcurrency, 1, INLINE_MAP_MAX_CONCURRENCY, " (an inline Map's limit)");
}

export interface FullRebuildStateMachineProps {
  /** The full-rebuild function: it plans, runs each partition and finishes. */
  readonly fullRebuild: lambda.IFunction;
  /**
   * How many partitions run at once (the Map's MaxConcurrency), 1 to 40.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * How long one invocation may take before Step Functions counts it timed out (States.Timeout).
   * Keep it above the function's own timeout, which normally ends a stuck invocation first.
   * @default Duration.minutes(16): Lambda's 15-minute limit and a minute of margin
   */
  readonly invocationTimeout?: Duration;
  /**
   * How long the execution logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The state machine of a partitioned full rebuild, with its log group. */
export class FullRebuildStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FullRebuildStateMachineProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 4;
    throwOnProblems(problemOf('maxConcurrency', mapConcurrencyProblem(maxConcurrency)));
    const timeout = sfn.Timeout.duration(props.invocationTimeout ?? Duration.minutes(16));
    const fn = props.fullRebuild;

    /** Plan and finish are short: Lambda's throttling and service errors are worth a retry. */
    const retryLambdaErrors = (task: tasks.LambdaInvoke) =>
      task
        .addRetry({
          errors: [LAMBDA_THROTTLED],
          interval: Duration.seconds(5),
          backoffRate: 2,
          maxAttempts: 6,
          maxDelay: Duration.minutes(2),
          jitterStrategy: sfn.JitterType.FULL,
        })
        .addRetry(SERVICE_ERROR_RETRY);

    // The plan's event is the execution's input (a schedule's fields, or a manual start's
    // partitions and dryRun) with its action added; a Pass state sets the two side by side, as
    // a string literal of JSON inside an intrinsic function would need escaping.
    const planRequest = new sfn.Pass(this, 'PlanRequest', {
      comment: "The plan's event: the execution's input and the action",
      parameters: { execution: sfn.JsonPath.objectAt('$$.Execution.Input'), set: { action: 'plan' } },
    });
    const plan = retryLambdaErrors(
      new tasks.LambdaInvoke(this, 'Plan', {
        comment: 'Record the run and split the symbols into partitions',
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromJsonPathAt(
          sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.execution'), sfn.JsonPath.objectAt('$.set')),
        ),
        retryOnServiceExceptions: false,
        taskTimeout: timeout,
        outputPath: '$.Payload',
      }),
    );
    // No Catch on the plan: a failed plan recorded no run, so there is nothing to finish. The
    // handler emits FullRebuildSucceeded 0 and the execution fails (its alarm fires).

    const partition = new tasks.LambdaInvoke(this, 'Partition', {
      comment: 'Rebuild the symbols of one partition',
      lambdaFunction: fn,
      retryOnServiceExceptions: false,
      taskTimeout: timeout,
      outputPath: '$.Payload',
    })
      .addRetry({
        errors: [LAMBDA_THROTTLED],
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 8,
        maxDelay: Duration.minutes(5),
        jitterStrategy: sfn.JitterType.FULL,
      })
      .addRetry(SERVICE_ERROR_RETRY)
      .addRetry({
        errors: [...PARTITION_TIMEOUTS],
        interval: Duration.seconds(30),
        backoffRate: 2,
        maxAttempts: 2,
      })
      // Any other failure (a dropped connection, a database failover): a partition is
      // idempotent, so one more attempt costs only time (README, "Partitioned nightly rebuild on AWS").
      .addRetry({
        errors: [sfn.Errors.TASKS_FAILED],
        interval: Duration.seconds(15),
        backoffRate: 2,
        maxAttempts: 1,
      });

    const partitions = new sfn.Map(this, 'Partitions', {
      comment: 'Run every partition; finish reads their results from the database',
      itemsPath: '$.partitions',
      itemSelector: {
        action: 'partition',
        runId: sfn.JsonPath.stringAt('$$.Map.Item.Value.runId'),
        partition: sfn.JsonPath.numberAt('$$.Map.Item.Value.partition'),
      },
      maxConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
    }).itemProcessor(partition);

    const finishPayload = (extra: Record<string, unknown>) =>
      sfn.TaskInput.fromObject({
        action: 'finish',
        runId: sfn.JsonPath.stringAt('$.runId'),
        triggeredBy: sfn.JsonPath.stringAt('$.triggeredBy'),
        ...extra,
      });
    const finish = retryLambdaErrors(
      new tasks.LambdaInvoke(this, 'Finish', {
        comment:
          'Check every partition completed, add up the counts and drift, log the run, emit its metrics',
        lambdaFunction: fn,
        payload: finishPayload({}),
        retryOnServiceExceptions: false,
        taskTimeout: timeout,
        outputPath: '$.Payload',
      }),
    );
    const finishAfterFailure = retryLambdaErrors(
      new tasks.LambdaInvoke(this, 'FinishAfterFailure', {
        comment: 'Log the run failed with the error caught, and emit its metrics',
        lambdaFunction: fn,
        payload: finishPayload({ error: sfn.JsonPath.objectAt('$.error') }),
        retryOnServiceExceptions: false,
        taskTimeout: timeout,
        resultPath: '$.finish',
      }),
    );
    partitions.addCatch(finishAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const failed = new sfn.Fail(this, 'RebuildFailed', {
      comment: 'A partition failed for good: the run is logged failed',
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    finishAfterFailure.next(failed);

    const completed = new sfn.Choice(this, 'RunCompleted')
      .when(sfn.Condition.stringEquals('$.status', 'completed'), new sfn.Succeed(this, 'Done'))
      .otherwise(
        new sfn.Fail(this, 'RunNotCompleted', {
          comment: 'Finish found a partition unfinished',
          error: 'RebuildNotCompleted',
          cause: 'finish logged the run failed: a partition did not complete (see the run log)',
        }),
      );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      comment: 'fifo-ledger partitioned full rebuild: plan, partitions, finish',
      definitionBody: sfn.DefinitionBody.fromChainable(
        planRequest.next(plan).next(partitions).next(finish).next(completed),
      ),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`,
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
  }
}
