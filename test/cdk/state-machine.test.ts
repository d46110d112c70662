/**
 * The partitioned nightly rebuild on AWS (README, "Partitioned nightly rebuild on AWS"), the
 * template side: the state machine and its definition, who may start it and what it may invoke,
 * the schedule's target, and the alarm on its failed executions.
 */
import { createRequire } from 'node:module';
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV, MAX_FULL_REBUILD_PARTITIONS } from '../../functions/commons/constants.ts';
import { ConfigurationError, type FifoLedgerStack, parseConfig } from '../../lib/index.ts';
import { MAX_PARTITIONS } from '../../shared/jobs/partitions/index.ts';
import { buildStack, NEW_DATABASE_CONTEXT } from './support.ts';

/** asl-validator ships no types: its one export, as its README documents it. */
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

const PARTITIONED_CONTEXT = {
  ...NEW_DATABASE_CONTEXT,
  fullRebuildPartitions: '8',
  fullRebuildMaxConcurrency: '3',
};
const SINGLE = buildStack(NEW_DATABASE_CONTEXT);
const PARTITIONED = buildStack(PARTITIONED_CONTEXT);

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
  MaxConcurrency?: number;
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  [key: string]: unknown;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}
interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

const logicalId = (stack: FifoLedgerStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** The one state machine resource of a template. */
function stateMachineOf(template: Template) {
  const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine'));
  expect(machines).toHaveLength(1);
  const [id, resource] = machines[0]!;
  return { id, properties: resource.Properties as Record<string, unknown> };
}

/**
 * The definition as Step Functions receives it: the Fn::Join of the template with the partition
 * and the function ARNs put in, as CloudFormation would at deploy time.
 */
function definitionOf(template: Template): Definition {
  const { properties } = stateMachineOf(template);
  const [separator, parts] = (properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === 'AWS::Partition') return 'aws';
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt?.[1] === 'Arn') return `arn:aws:lambda:eu-west-1:123456789012:function:${getAtt[0]}`;
      throw new Error(`unexpected token in the definition: ${JSON.stringify(part)}`);
    })
    .join(separator);
  return JSON.parse(text) as Definition;
}

/** Every statement of the AWS::IAM::Policy resources attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The Lambda function resource's properties. */
function functionProps(template: Template, id: string) {
  return template.toJSON().Resources[id].Properties as Record<string, unknown>;
}

describe('the partitioned rebuild state machine', () => {
  it('logs every event to its own log group and traces with X-Ray', () => {
    // Why: a failed night is read from these logs; cdk-nag requires both, and the runbook points at them.
    // Prepare
    const { stack, template } = PARTITIONED;

    // Act
    const { properties } = stateMachineOf(template);
    const logGroupId = logicalId(stack, stack.fullRebuildStateMachine.logGroup);

    // Assess
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(properties.LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      IncludeExecutionData: true,
      Level: 'ALL',
    });
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
  });

  it('plans, maps the partitions with MaxConcurrency from the setting, then finishes', () => {
    // Why: this order is the contract of plan, partition and finish; MaxConcurrency bounds the database's load.
    // Prepare
    const definition = definitionOf(PARTITIONED.template);

    // Act
    const map = definition.States.Partitions!;
    const iteration = map.ItemProcessor!.States[map.ItemProcessor!.StartAt]!;

    // Assess
    expect(definition.StartAt).toBe('PlanRequest');
    expect(definition.States.PlanRequest?.Next).toBe('Plan');
    expect(definition.States.Plan?.Next).toBe('Partitions');
    expect(definition.States.Plan?.Parameters?.['Payload.$']).toBe(
      'States.JsonMerge($.execution, $.set, false)',
    );
    expect(map).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 3,
      ItemsPath: '$.partitions',
      ItemSelector: {
        action: 'partition',
        'runId.$': '$$.Map.Item.Value.runId',
        'partition.$': '$$.Map.Item.Value.partition',
      },
      Next: 'Finish',
    });
    expect(iteration).toMatchObject({ Type: 'Task', Parameters: { 'Payload.$': '$' } });
    expect(definition.States.Finish?.Parameters?.Payload).toEqual({
      action: 'finish',
      'runId.$': '$.runId',
      'triggeredBy.$': '$.triggeredBy',
    });
    expect(definition.States.Finish?.Next).toBe('RunCompleted');
  });

  it('never runs more partitions at once than the function may run', () => {
    // Why: with reserved concurrency, iterations above the reservation are only throttled and retried.
    // Prepare
    const single = SINGLE;
    const unreserved = buildStack({ ...NEW_DATABASE_CONTEXT, reserveWriterConcurrency: 'false' });

    // Act
    const reserved = (built: typeof SINGLE) =>
      functionProps(built.template, logicalId(built.stack, built.stack.fullRebuild))
        .ReservedConcurrentExecutions;
    const mapConcurrency = (built: typeof SINGLE) =>
      definitionOf(built.template).States.Partitions?.MaxConcurrency;

    // Assess
    expect([reserved(PARTITIONED), mapConcurrency(PARTITIONED)]).toEqual([3, 3]);
    expect([reserved(single), mapConcurrency(single)]).toEqual([1, 1]);
    expect([reserved(unreserved), mapConcurrency(unreserved)]).toEqual([undefined, 4]);
  });

  it('retries throttling, Lambda service errors and partition timeouts with backoff', () => {
    // Why: a throttled or timed-out partition must not cost the night; backoff keeps retries from piling on Lambda.
    // Prepare
    const definition = definitionOf(PARTITIONED.template);
    const map = definition.States.Partitions!;

    // Act
    const retriedBy = (state: State) =>
      Object.fromEntries(
        (state.Retry ?? []).flatMap((retry) => retry.ErrorEquals.map((error) => [error, retry])),
      );
    const partition = retriedBy(map.ItemProcessor!.States.Partition!);

    // Assess
    for (const error of [
      'Lambda.TooManyRequestsException',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'States.Timeout',
      'Sandbox.Timedout',
    ]) {
      expect(partition[error], error).toBeDefined();
      expect(partition[error]!.MaxAttempts, error).toBeGreaterThanOrEqual(2);
      expect(partition[error]!.BackoffRate, error).toBeGreaterThan(1);
    }
    expect(map.ItemProcessor!.States.Partition!.TimeoutSeconds).toBe(16 * 60);
    for (const step of ['Plan', 'Finish', 'FinishAfterFailure']) {
      const retries = retriedBy(definition.States[step]!);
      expect(retries['Lambda.TooManyRequestsException'], step).toBeDefined();
      expect(retries['Lambda.ServiceException'], step).toBeDefined();
    }
  });

  it('still runs finish with the error after a caught failure, then ends failed', () => {
    // Why: without finish the run is never logged failed and FullRebuildSucceeded 0 never reaches the alarms.
    // Prepare
    const definition = definitionOf(PARTITIONED.template);

    // Act
    const catches = definition.States.Partitions!.Catch;
    const afterFailure = definition.States.FinishAfterFailure!;
    const end = definition.States[afterFailure.Next!]!;

    // Assess
    expect(catches).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FinishAfterFailure' },
    ]);
    expect(afterFailure.Parameters?.Payload).toEqual({
      action: 'finish',
      'runId.$': '$.runId',
      'triggeredBy.$': '$.triggeredBy',
      'error.$': '$.error',
    });
    expect(end).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(definition.States.RunCompleted).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.status', StringEquals: 'completed', Next: 'Done' }],
      Default: 'RunNotCompleted',
    });
    expect(definition.States.RunNotCompleted?.Type).toBe('Fail');
  });

  it.each([
    ['one process', SINGLE],
    ['partitioned', PARTITIONED],
  ])('synthesizes a definition asl-validator accepts: %s', (_name, built) => {
    // Why: a malformed definition fails only at deploy time, after a long CloudFormation wait.
    // Prepare
    const definition = definitionOf(built.template);

    // Act
    const result = validateAsl(definition);

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('may invoke the full-rebuild function only', () => {
    // Why: the state machine's role is a way into the functions; it needs the one it runs and nothing more.
    // Prepare
    const { stack, template } = PARTITIONED;
    const fn = logicalId(stack, stack.fullRebuild);
    const roleId = logicalId(stack, stack.fullRebuildStateMachine.stateMachine.role);

    // Act
    const statements = statementsOf(template, roleId);
    const invoke = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    const others = statements
      .flatMap(actionsOf)
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:') && a !== 'lambda:InvokeFunction');

    // Assess
    expect(invoke).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [
          { 'Fn::GetAtt': [fn, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] },
        ],
      },
    ]);
    expect(others).toEqual([]);
  });

  it('gives the function the partition count a plan uses by default', () => {
    // Why: a plan event without `partitions` (a manual start) must follow the stack's setting.
    // Prepare
    const env = (built: typeof SINGLE) =>
      (
        functionProps(built.template, logicalId(built.stack, built.stack.fullRebuild)).Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables[ENV.fullRebuildPartitions];

    // Act
    const values = [env(SINGLE), env(PARTITIONED)];

    // Assess
    expect(values).toEqual(['1', '8']);
  });
});

describe('the nightly schedule', () => {
  it('invokes the function when the rebuild runs in one process', () => {
    // Why: fullRebuildPartitions 1 keeps today's nightly run exactly as it was.
    // Prepare
    const { stack, template } = SINGLE;

    // Act
    const target =
      template.toJSON().Resources[logicalId(stack, stack.schedules.fullRebuild)].Properties.Target;

    // Assess
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.fullRebuild), 'Arn'] });
  });

  it('starts the state machine, and may start only it, when the rebuild is partitioned', () => {
    // Why: the schedule's role is its whole power; a partitioned night starts the state machine and nothing else.
    // Prepare
    const { stack, template } = PARTITIONED;
    const machine = { Ref: stateMachineOf(template).id };

    // Act
    const target =
      template.toJSON().Resources[logicalId(stack, stack.schedules.fullRebuild)].Properties.Target;
    const statements = statementsOf(template, logicalId(stack, stack.schedulerRoles.fullRebuild));

    // Assess
    expect(target).toMatchObject({
      Arn: machine,
      Input: JSON.stringify({
        scheduledTime: '<aws.scheduler.scheduled-time>',
        scheduleArn: '<aws.scheduler.schedule-arn>',
        attempt: '<aws.scheduler.attempt-number>',
      }),
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.failureQueue), 'Arn'] } },
    });
    expect(statements.filter((s) => actionsOf(s).some((a) => !a.startsWith('sqs:')))).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: machine },
    ]);
  });
});

describe('the failed-execution alarm', () => {
  it('watches ExecutionsFailed of the state machine and notifies the alarm topic', () => {
    // Why: a partitioned night that fails must page like a failed function does.
    // Prepare
    const { stack, template } = PARTITIONED;
    const topic = { Ref: logicalId(stack, stack.alarms.topic) };

    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((p) => p.MetricName === 'ExecutionsFailed');

    // Assess
    expect(alarms).toEqual([
      expect.objectContaining({
        AlarmName: `${stack.stackName}-full-rebuild-execution-failed`,
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineOf(template).id } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
      }),
    ]);
  });
});

describe('the partition settings', () => {
  it('allow as many partitions as a plan accepts', () => {
    // Why: the stack and the handler check the count before the plan does; the three limits must agree.
    // Prepare
    const stackLimit = MAX_FULL_REBUILD_PARTITIONS;

    // Act
    const accepted = parseConfig({ fullRebuildPartitions: String(stackLimit) }).props.fullRebuildPartitions;

    // Assess
    expect(stackLimit).toBe(MAX_PARTITIONS);
    expect(accepted).toBe(MAX_PARTITIONS);
  });

  it.each([
    [{ fullRebuildPartitions: '0' }, 'fullRebuildPartitions'],
    [{ fullRebuildPartitions: '257' }, 'fullRebuildPartitions'],
    [{ fullRebuildMaxConcurrency: '41' }, 'fullRebuildMaxConcurrency'],
    [{ fullRebuildMaxConcurrency: 'two' }, 'fullRebuildMaxConcurrency'],
  ])('fails on %j, naming the key', (context, key) => {
    // Why: a bad value must stop the synth with the key to fix, not deploy an unrunnable Map.
    // Prepare
    const parse = () => parseConfig(context);

    // Act
    const error = (() => {
      try {
        parse();
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(`${key}:`);
  });
});
