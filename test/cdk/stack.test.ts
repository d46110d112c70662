/** Template assertions for the stack with a new database: every setting the operations design depends on. */
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ENV,
  FULL_REBUILD_HEAP,
  FULL_REBUILD_NODE_FLAGS,
  LAMBDA_CA_BUNDLE,
  METRICS,
  METRICS_NAMESPACE,
  metricDimensions,
} from '../../functions/commons/constants.ts';
import { FifoLedgerStack, type NewDatabase, parseConfig } from '../../lib/index.ts';
import { buildStack, countMatching, dimensionRecord, NEW_DATABASE_CONTEXT } from './support.ts';

const { stack, template } = buildStack();
const database = stack.database as NewDatabase;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const FUNCTIONS = {
  incremental: stack.incremental,
  fullRebuild: stack.fullRebuild,
  report: stack.report,
  migrate: stack.migrate,
};
const functionProps = (fn: (typeof FUNCTIONS)[keyof typeof FUNCTIONS]) =>
  template.toJSON().Resources[id(fn)].Properties as Record<string, unknown> & {
    Environment: { Variables: Record<string, unknown> };
  };

describe('functions', () => {
  it.each(Object.entries(FUNCTIONS))('%s runs Node.js 24 on arm64 in the isolated subnets', (_name, fn) => {
    // Why: the design fixes the runtime and architecture, and the functions must sit in the database's VPC.
    // Prepare
    const subnets = stack.database.vpc.isolatedSubnets.map((s) => ({ Ref: id(s) }));

    // Act
    const props = functionProps(fn);

    // Assess
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.VpcConfig).toEqual({
      SubnetIds: subnets,
      SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(findSecurityGroup()), 'GroupId'] }],
    });
  });

  it.each(Object.entries(FUNCTIONS))(
    '%s verifies TLS with the runtime CA bundle and reads its own login secret',
    (name, fn) => {
      // Why: Node 20+ runtimes do not trust the RDS CAs unless NODE_EXTRA_CA_CERTS names the bundle; TLS is never off.
      // Least privilege: each function connects with its own login, only migrate as the owner.
      // Prepare
      const own = {
        incremental: stack.logins.jobSecret,
        fullRebuild: stack.logins.jobSecret,
        report: stack.logins.reportSecret,
        migrate: stack.database.secret,
      }[name]!;
      const secretRef = { Ref: stack.getLogicalId(own.node.defaultChild as CfnElement) };

      // Act
      const env = functionProps(fn).Environment.Variables;

      // Assess
      expect(env.NODE_EXTRA_CA_CERTS).toBe(LAMBDA_CA_BUNDLE);
      expect(env[ENV.dbSecretArn]).toEqual(secretRef);
      expect(env[ENV.deployment]).toBe(stack.stackName);
      expect(env[ENV.dbName]).toBe('fifo');
      for (const forbidden of [ENV.dbTls, ENV.databaseUrl, 'POWERTOOLS_DEV', 'POWERTOOLS_METRICS_DISABLED']) {
        expect(env).not.toHaveProperty(forbidden);
      }
    },
  );

  it('runs the full rebuild in 1 GiB with a bounded V8 heap, the way the benchmark measures it', () => {
    // Why: peak RSS target (e) holds for the heap limit the benchmark uses; without the same
    // flag in the function, V8 sizes its heap on its own and the measurement says nothing.
    // Prepare
    const options = (fn: (typeof FUNCTIONS)[keyof typeof FUNCTIONS]) =>
      String(functionProps(fn).Environment.Variables.NODE_OPTIONS);

    // Act
    const full = functionProps(stack.fullRebuild);

    // Assess
    expect(full.MemorySize).toBe(1024);
    expect(options(stack.fullRebuild)).toBe(
      '--enable-source-maps --max-old-space-size=384 --max-semi-space-size=64',
    );
    expect(FULL_REBUILD_NODE_FLAGS.join(' ')).toBe('--max-old-space-size=384 --max-semi-space-size=64');
    // Old space plus the young generation (3 semi-spaces) at their limits leave 384 MiB of the
    // function's 1 GiB for code, buffers and sockets (peak RSS measured 344 MB at 1M trades).
    expect(FULL_REBUILD_HEAP.oldSpaceMiB + 3 * FULL_REBUILD_HEAP.semiSpaceMiB).toBeLessThanOrEqual(
      1024 - 384,
    );
    expect(options(stack.incremental)).toBe('--enable-source-maps');
  });

  it('refuses a full-rebuild memory size below its heap limits, naming the prop', () => {
    // Why: the construct can be used without parseConfig; the same bound must hold there.
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const { stackName, props } = parseConfig(NEW_DATABASE_CONTEXT);

    // Act
    const build = () => new FifoLedgerStack(app, stackName, { ...props, fullRebuildMemorySize: 512 });

    // Assess
    expect(build).toThrow(
      /fullRebuildMemorySize must be at least 768 MiB .*--max-semi-space-size=64.*got 512/,
    );
  });

  it('gives every function an explicit log group with a retention', () => {
    // Why: without an explicit group Lambda creates one that keeps logs forever (or a custom resource sets it).
    // Prepare
    const groups = template.findResources('AWS::Logs::LogGroup');

    // Act
    const retention = Object.values(FUNCTIONS).map((fn) => {
      const ref = (functionProps(fn).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      return groups[ref]?.Properties?.RetentionInDays;
    });

    // Assess
    expect(retention).toEqual([30, 30, 30, 30]);
  });

  it('reserves a concurrency of 1 for the writers only', () => {
    // Why: an incremental or full run must never overlap itself; the report and migration need no reservation.
    // Prepare
    const reserved = (fn: (typeof FUNCTIONS)[keyof typeof FUNCTIONS]) =>
      functionProps(fn).ReservedConcurrentExecutions;

    // Act
    const values = Object.values(FUNCTIONS).map(reserved);
    const off = buildStack({ ...NEW_DATABASE_CONTEXT, reserveWriterConcurrency: 'false' });
    const offValues = off.template.findResources('AWS::Lambda::Function', {
      Properties: { ReservedConcurrentExecutions: Match.anyValue() },
    });

    // Assess
    expect(values).toEqual([1, 1, undefined, undefined]);
    expect(Object.keys(offValues)).toEqual([]);
  });

  it('bounds the asynchronous retries and sends failures to the failure queue', () => {
    // Why: Scheduler invokes asynchronously; a stale 5-minute tick must be dropped to the queue, not run hours late.
    // Prepare
    const queue = { 'Fn::GetAtt': [id(stack.failureQueue), 'Arn'] };
    const expected = [
      [stack.incremental, 240, 0],
      [stack.fullRebuild, 3600, 1],
      [stack.report, 3600, 1],
    ] as const;

    // Act
    const matches = expected.map(([fn, maxAge, retries]) =>
      countMatching(template, 'AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id(fn) },
        MaximumEventAgeInSeconds: maxAge,
        MaximumRetryAttempts: retries,
        DestinationConfig: { OnFailure: { Destination: queue } },
      }),
    );

    // Assess
    expect(matches).toEqual([1, 1, 1]);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
  });

  it('lets only the report function send email, from and to the configured identities', () => {
    // Why: SES authorizes a send against the sender identity (and, in the sandbox, the recipients).
    // Prepare
    const identity = (name: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:identity/${name}`,
        ],
      ],
    });

    // Act
    const sesStatements = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
      JSON.stringify(p).includes('ses:SendEmail'),
    );

    // Assess
    expect(sesStatements).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(stack.report.role!.node.defaultChild as CfnElement) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['ses:SendEmail', 'ses:SendRawEmail'],
            Condition: { StringEquals: { 'ses:FromAddress': 'reports@example.com' } },
            Effect: 'Allow',
            Resource: [
              identity('reports@example.com'),
              identity('example.com'),
              identity('ops@example.com'),
              identity('cfo@example.org'),
              identity('example.org'),
            ],
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.reportSender]: 'FIFO Reports <reports@example.com>',
          [ENV.reportRecipients]: 'ops@example.com,cfo@example.org',
          [ENV.reportTimeZone]: 'UTC',
        }),
      },
    });
  });

  it('runs the migrations as a deploy-time trigger after the database exists', () => {
    // Why: the first deploy must create the schema before any schedule fires, and every deploy re-applies it.
    // Prepare
    const trigger = Object.entries(template.findResources('Custom::Trigger'));

    // Act
    const [, resource] = trigger[0]!;

    // Assess
    expect(trigger).toHaveLength(1);
    expect(resource.Properties).toMatchObject({
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
      HandlerArn: { Ref: expect.stringMatching(/^MigrateCurrentVersion/) },
    });
    expect(resource.DependsOn).toEqual(expect.arrayContaining([id(database.instance)]));
    expect(functionProps(stack.migrate).Environment.Variables[ENV.migrationsDir]).toBe(
      '/var/task/migrations',
    );
    for (const schedule of Object.values(stack.schedules)) {
      expect(template.toJSON().Resources[id(schedule)].DependsOn).toContain(trigger[0]![0]);
    }
  });
});

function findSecurityGroup(): CfnElement {
  return stack.node.findChild('FunctionsSecurityGroup').node.defaultChild as CfnElement;
}

describe('schedules', () => {
  it('runs incremental every 5 minutes, the rebuild nightly and the report daily, with the scheduled time', () => {
    // Why: the three cadences are the product; the payload carries the scheduled time the handlers log.
    // Prepare
    const input = JSON.stringify({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      scheduleArn: '<aws.scheduler.schedule-arn>',
      attempt: '<aws.scheduler.attempt-number>',
    });
    const expected = [
      [stack.incremental, 'rate(5 minutes)', 240],
      [stack.fullRebuild, 'cron(30 2 * * ? *)', 3600],
      [stack.report, 'cron(0 7 * * ? *)', 3600],
    ] as const;

    // Act
    const matches = expected.map(([fn, expression, maxAge]) =>
      countMatching(template, 'AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [id(fn), 'Arn'] },
          Input: input,
          RetryPolicy: { MaximumEventAgeInSeconds: maxAge, MaximumRetryAttempts: 2 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(stack.failureQueue), 'Arn'] } },
        },
      }),
    );

    // Assess
    expect(matches).toEqual([1, 1, 1]);
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
  });

  it('follows the configured time zone and times', () => {
    // Why: "nightly" and "daily" are local notions; the operator sets the clock, Scheduler applies DST.
    // Prepare
    const context = {
      ...NEW_DATABASE_CONTEXT,
      scheduleTimeZone: 'Europe/Berlin',
      fullRebuildTime: '03:15',
      reportTime: '06:45',
      incrementalIntervalMinutes: '10',
    };

    // Act
    const { template: berlin } = buildStack(context);

    // Assess
    berlin.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    berlin.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(45 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    berlin.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(10 minutes)' });
    berlin.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.reportTimeZone]: 'Europe/Berlin' }) },
    });
  });

  it('disables every schedule, and the alarms that expect runs, with one switch', () => {
    // Why: the rollback is one setting; it stops all writes and must not page about the runs it stopped.
    // Prepare
    const context = { ...NEW_DATABASE_CONTEXT, schedulesEnabled: 'false' };

    // Act
    const { template: off, stack: offStack } = buildStack(context);

    // Assess
    const states = Object.values(off.findResources('AWS::Scheduler::Schedule')).map(
      (s) => s.Properties.State,
    );
    expect(states).toEqual(['DISABLED', 'DISABLED', 'DISABLED']);
    const alarms = off.toJSON().Resources;
    const enabled = (alarm: { node: { defaultChild?: unknown } }) =>
      alarms[offStack.getLogicalId(alarm.node.defaultChild as CfnElement)].Properties.ActionsEnabled;
    expect(enabled(offStack.alarms.freshness)).toBe(false);
    expect(enabled(offStack.alarms.fullRebuildMissed)).toBe(false);
    off.resourceCountIs('AWS::RDS::DBInstance', 1);
  });
});

describe('alarms', () => {
  const topic = { Ref: id(stack.alarms.topic) };
  const alarm = (construct: { node: { defaultChild?: unknown } }) =>
    template.toJSON().Resources[id(construct)].Properties as Record<string, unknown>;

  it('fires on freshness lag over 15 minutes, or when the lag metric is missing', () => {
    // Why: a stopped job emits nothing, so missing data must breach; the lag counts unprocessed changes only.
    // Prepare
    const props = alarm(stack.alarms.freshness);

    // Act
    const dimensions = dimensionRecord(props.Dimensions);

    // Assess
    expect(props).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.freshnessLag.name,
      Unit: METRICS.freshnessLag.unit,
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
      ActionsEnabled: true,
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(dimensions).toEqual(metricDimensions(stack.stackName));
  });

  it('fires when no full rebuild has succeeded for 26 hours, within the CloudWatch period limits', () => {
    // Why: the nightly proof must not silently stop; 26 one-hour periods stay within the 7-day window limit.
    // Prepare
    const props = alarm(stack.alarms.fullRebuildMissed);

    // Act
    const window = (props.Period as number) * (props.EvaluationPeriods as number);

    // Assess
    expect(props).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.fullRebuildSucceeded.name,
      Unit: METRICS.fullRebuildSucceeded.unit,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [topic],
    });
    expect(window).toBe(26 * 3600);
    expect(window).toBeLessThanOrEqual(7 * 24 * 3600);
    expect(dimensionRecord(props.Dimensions)).toEqual(metricDimensions(stack.stackName));
  });

  it('fires on drift above the threshold and keeps its state between nightly runs', () => {
    // Why: drift is reported once a night; missing data in between must neither clear nor raise the alarm.
    // Prepare
    const props = alarm(stack.alarms.drift);

    // Act
    const dimensions = dimensionRecord(props.Dimensions);

    // Assess
    expect(props).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.driftRows.name,
      Unit: METRICS.driftRows.unit,
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
    });
    expect(dimensions).toEqual(metricDimensions(stack.stackName));
  });

  it('fires when the failure queue holds a message, and on any function error', () => {
    // Why: failed or expired invocations land in the queue; function errors page even when a retry succeeds later.
    // Prepare
    const queueAlarm = alarm(stack.alarms.failureQueueNotEmpty);
    const errorAlarms = Object.values(stack.alarms.functionErrors).map(alarm);

    // Act
    const watched = errorAlarms.map(
      (a) => (dimensionRecord(a.Dimensions).FunctionName as { Ref: string }).Ref,
    );

    // Assess
    expect(queueAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
    expect(dimensionRecord(queueAlarm.Dimensions).QueueName).toEqual({
      'Fn::GetAtt': [id(stack.failureQueue), 'QueueName'],
    });
    expect(watched).toEqual([id(stack.incremental), id(stack.fullRebuild), id(stack.report)]);
    for (const a of errorAlarms) {
      expect(a).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
  });

  it('notifies an SNS topic that refuses plain HTTP, with the configured email subscribed', () => {
    // Why: enforceSSL is the SNS3 control; the subscription is how alarms reach a person.
    // Prepare
    const topicRef = { Ref: id(stack.alarms.topic) };

    // Act
    const subscriptions = countMatching(template, 'AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alarms@example.com',
      TopicArn: topicRef,
    });
    const tlsOnly = countMatching(template, 'AWS::SNS::TopicPolicy', {
      Topics: [topicRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });

    // Assess
    expect(subscriptions).toBe(1);
    expect(tlsOnly).toBe(1);
  });
});

describe('failure queue', () => {
  it('is encrypted, refuses plain HTTP and keeps messages 14 days', () => {
    // Why: failed events carry the scheduled time an operator replays; they must survive a weekend.
    // Prepare
    const queueRef = { Ref: id(stack.failureQueue) };

    // Act
    const queues = countMatching(template, 'AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    const tlsOnly = countMatching(template, 'AWS::SQS::QueuePolicy', {
      Queues: [queueRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });

    // Assess
    expect(queues).toBe(1);
    expect(tlsOnly).toBe(1);
  });
});

describe('new database', () => {
  it('is an encrypted PostgreSQL instance with backups and deletion protection, in isolated subnets', () => {
    // Why: the ledger's database holds money data; these are the design's non-negotiables for mode "new".
    // Prepare
    const subnetGroup = Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0]!;

    // Act
    const subnets = subnetGroup.Properties.SubnetIds;

    // Assess
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      StorageEncrypted: true,
      BackupRetentionPeriod: 7,
      DeletionProtection: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    expect(subnets).toEqual(stack.database.vpc.isolatedSubnets.map((s) => ({ Ref: id(s) })));
  });

  it('rotates the secret only once the Secrets Manager endpoint exists', () => {
    // Why: the first rotation runs when the schedule is created; without the endpoint it would fail in the VPC.
    // Prepare
    const schedule = template.toJSON().Resources[id(database.rotationSchedule!)];

    // Act
    const dependsOn = schedule.DependsOn as string[];

    // Assess
    expect(dependsOn).toContain(
      stack.getLogicalId(
        stack.node.findChild('Endpoints').node.findChild('SecretsManager').node.defaultChild as CfnElement,
      ),
    );
  });

  it('has no NAT gateway: Secrets Manager and SES are reached through private endpoints', () => {
    // Why: the functions have no internet route; without the endpoints they would time out on the secret and SES.
    // Prepare
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));

    // Act
    const services = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));

    // Assess
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    expect(services).toHaveLength(2);
    expect(services.some((s) => s.includes('.secretsmanager'))).toBe(true);
    expect(services.some((s) => s.endsWith('.email"]]}'))).toBe(true);
    for (const endpoint of endpoints) expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [stack.getLogicalId(findSecurityGroup()), 'GroupId'] },
    });
  });

  it('skips the SES endpoint when the report is not mailed', () => {
    // Why: each interface endpoint costs about $14.60 a month in two zones; no sender, no SES traffic.
    // Prepare
    const context = {};

    // Act
    const { template: quiet } = buildStack(context);

    // Assess
    const services = Object.values(quiet.findResources('AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(services).toHaveLength(1);
    expect(services[0]).toContain('.secretsmanager');
  });

  it('admits the functions to the database port', () => {
    // Prepare
    const fromFunctions = { 'Fn::GetAtt': [stack.getLogicalId(findSecurityGroup()), 'GroupId'] };

    // Act
    const rules = countMatching(template, 'AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      SourceSecurityGroupId: fromFunctions,
      FromPort: { 'Fn::GetAtt': [id(database.instance), 'Endpoint.Port'] },
    });

    // Assess
    expect(rules).toBe(1);
  });
});
