/**
 * Least privilege (README, "Database logins and secrets"), the template side. Each describe block names the
 * finding it guards: 1 one login and one secret per function, 2 no open egress, 3 the report
 * sends from the sender's address only, 4 cdk-nag acknowledgements that are true.
 */
import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import type { FifoLedgerStack, NewDatabase } from '../../lib/index.ts';
import { LOGIN_SECRET_ENV } from '../../shared/db/logins.ts';
import { buildStack, EXISTING_DATABASE_CONTEXT, NEW_DATABASE_CONTEXT } from './support.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

const NEW = buildStack(NEW_DATABASE_CONTEXT);
const EXISTING = buildStack(EXISTING_DATABASE_CONTEXT);
const EXISTING_NO_ENDPOINTS = buildStack({ ...EXISTING_DATABASE_CONTEXT, createVpcEndpoints: 'false' });
const MODES = { 'new database': NEW, 'existing database': EXISTING };

const logicalId = (stack: FifoLedgerStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Every statement of the AWS::IAM::Policy resources attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const functionsOf = (stack: FifoLedgerStack) => ({
  incremental: stack.incremental,
  fullRebuild: stack.fullRebuild,
  report: stack.report,
  migrate: stack.migrate,
});

/** A security group's egress, inline and as separate rules, without CDK's match-nothing placeholder. */
function egressOf(template: Template, groupId: string) {
  const resources = template.toJSON().Resources as Resources;
  const inline = (resources[groupId]!.Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[];
  const separate = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::EC2::SecurityGroupEgress' &&
        JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [groupId, 'GroupId'] }),
    )
    .map((r) => r.Properties);
  return [...inline, ...separate]
    .filter((rule) => rule.CidrIp !== '255.255.255.255/32')
    .map((rule) => ({
      protocol: rule.IpProtocol,
      port: rule.FromPort,
      to:
        rule.CidrIp ??
        (rule.DestinationSecurityGroupId as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0] ??
        rule.DestinationSecurityGroupId,
    }));
}

describe('finding 1: one login and one secret per function, the owner for the migration alone', () => {
  it.each(Object.entries(MODES))(
    'lets each function role read its own secret only: %s',
    (_mode, { stack, template }) => {
      // Why: a function's role that can read another secret can log in as that user; the report must not reach the writer or the owner.
      // Prepare
      const ref = (secret: { node: { defaultChild?: unknown } }) => ({ Ref: logicalId(stack, secret) });
      const owner =
        stack.database.secret.node.defaultChild === undefined
          ? stack.database.secret.secretArn
          : ref(stack.database.secret);
      const job = ref(stack.logins.jobSecret);
      const reporter = ref(stack.logins.reportSecret);
      const expected = {
        incremental: [job],
        fullRebuild: [job],
        report: [reporter],
        migrate: [owner, job, reporter],
      };

      // Act
      const readable = Object.fromEntries(
        Object.entries(functionsOf(stack)).map(([name, fn]) => [
          name,
          statementsOf(template, logicalId(stack, fn.role!))
            .filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')))
            .flatMap(resourcesOf),
        ]),
      );

      // Assess
      expect(readable).toEqual(expected);
    },
  );

  it.each(Object.entries(MODES))(
    'points each function at its own secret, and the migration at all three: %s',
    (_mode, { stack, template }) => {
      // Why: the env var is what the code reads; the grant alone would not keep a function off the owner's login.
      // Prepare
      const resources = template.toJSON().Resources as Resources;
      const env = (fn: { node: { defaultChild?: unknown } }) =>
        (resources[logicalId(stack, fn)]!.Properties.Environment as { Variables: Record<string, unknown> })
          .Variables;
      const arn = (secret: { secretArn: string; node: { defaultChild?: unknown } }) =>
        secret.node.defaultChild === undefined ? secret.secretArn : { Ref: logicalId(stack, secret) };

      // Act
      const variables = Object.fromEntries(
        Object.entries(functionsOf(stack)).map(([name, fn]) => [
          name,
          [env(fn)[ENV.dbSecretArn], env(fn)[LOGIN_SECRET_ENV.job], env(fn)[LOGIN_SECRET_ENV.report]],
        ]),
      );

      // Assess
      const job = arn(stack.logins.jobSecret);
      const reporter = arn(stack.logins.reportSecret);
      expect(variables).toEqual({
        incremental: [job, undefined, undefined],
        fullRebuild: [job, undefined, undefined],
        report: [reporter, undefined, undefined],
        migrate: [arn(stack.database.secret), job, reporter],
      });
    },
  );

  it('generates the login secrets attached to the new instance, with the owner as master, rotated after the migration', () => {
    // Why: multi-user rotation logs in as the login first, so it needs the migration to have created it, and the owner to alternate users.
    // Prepare
    const { stack, template } = NEW;
    const resources = template.toJSON().Resources as Resources;
    const database = stack.database as NewDatabase;
    const ownerRef = { Ref: logicalId(stack, database.secret) };
    const secretOf = (attached: { node: { scope?: unknown } }) =>
      resources[logicalId(stack, attached.node.scope as { node: { defaultChild?: unknown } })]!;

    // Act
    const templates = [stack.logins.jobSecret, stack.logins.reportSecret].map(
      (s) =>
        (secretOf(s).Properties.GenerateSecretString as { SecretStringTemplate: unknown })
          .SecretStringTemplate,
    );
    const schedules = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::SecretsManager::RotationSchedule' &&
        [stack.logins.jobSecret, stack.logins.reportSecret].some(
          (s) => JSON.stringify(r.Properties.SecretId) === JSON.stringify({ Ref: logicalId(stack, s) }),
        ),
    );
    const applications = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Serverless::Application' && JSON.stringify(r.Properties).includes('masterSecretArn'),
    );

    // Assess
    expect(stack.logins.usernames).toEqual({ job: 'fifo_ledger_job', report: 'fifo_ledger_report' });
    expect(templates).toEqual([
      { 'Fn::Join': ['', ['{"username":"fifo_ledger_job","dbname":"fifo","masterarn":"', ownerRef, '"}']] },
      {
        'Fn::Join': ['', ['{"username":"fifo_ledger_report","dbname":"fifo","masterarn":"', ownerRef, '"}']],
      },
    ]);
    expect(schedules).toHaveLength(2);
    for (const schedule of schedules) {
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      expect(schedule.DependsOn).toContain('MigrateOnDeploy');
    }
    expect(applications).toHaveLength(2);
    for (const app of applications)
      expect((app.Properties.Parameters as Record<string, unknown>).masterSecretArn).toEqual(ownerRef);
    const mappings = template.toJSON().Mappings as Record<string, { aws: { applicationId: string } }>;
    const deployed = applications.map((app) => {
      const [mapping] = (app.Properties.Location as { ApplicationId: { 'Fn::FindInMap': [string] } })
        .ApplicationId['Fn::FindInMap'];
      return mappings[mapping]!.aws.applicationId.split('/').pop();
    });
    expect(deployed).toEqual(Array(2).fill('SecretsManagerRDSPostgreSQLRotationMultiUser'));
  });

  it('generates the login secrets for an existing database too, with what a rotation function needs, and a configurable prefix', () => {
    // Why: the split must hold against the bot's database as well; an operator can attach rotation later without rewriting the secret.
    // Prepare
    const context = { ...EXISTING_DATABASE_CONTEXT, databaseLoginPrefix: 'fifo_blue' };

    // Act
    const { template } = buildStack(context);
    const generated = Object.values(template.findResources('AWS::SecretsManager::Secret')).map((s) =>
      JSON.parse(s.Properties.GenerateSecretString.SecretStringTemplate as string),
    );

    // Assess
    expect(generated).toEqual(
      ['fifo_blue_job', 'fifo_blue_report'].map((username) => ({
        engine: 'postgres',
        host: 'bot-db.abcdefgh.eu-west-1.rds.amazonaws.com',
        port: 5432,
        dbname: 'bot',
        username,
        masterarn: EXISTING_DATABASE_CONTEXT.databaseSecretArn,
      })),
    );
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  it('creates or switches the functions to their logins only after the migration made them', () => {
    // Why: on an upgrade CloudFormation would otherwise point a function at a login that does not exist yet.
    // Prepare
    const { stack, template } = NEW;
    const resources = template.toJSON().Resources as Resources;

    // Act
    const waits = [stack.incremental, stack.fullRebuild, stack.report, stack.migrate].map((fn) =>
      (resources[logicalId(stack, fn)]!.DependsOn ?? []).includes('MigrateOnDeploy'),
    );

    // Assess
    expect(waits).toEqual([true, true, true, false]);
  });

  it.each(Object.entries(MODES))(
    'has no dependency cycle, with the functions and login rotations after the migration: %s',
    (_mode, { template }) => {
      // Why: the rotations and functions depend on the trigger, which waits for the database; a cycle would fail the deploy, not the synth.
      // Prepare
      const resources = template.toJSON().Resources as Resources;
      const edges = Object.fromEntries(
        Object.entries(resources).map(([id, r]) => {
          const refs = new Set<string>(r.DependsOn ?? []);
          JSON.stringify(r.Properties ?? {}, (key, value) => {
            if (key === 'Ref' && typeof value === 'string' && value in resources) refs.add(value);
            if (key === 'Fn::GetAtt' && Array.isArray(value) && value[0] in resources) refs.add(value[0]);
            return value;
          });
          return [id, [...refs]];
        }),
      );

      // Act
      const state = new Map<string, 'visiting' | 'done'>();
      const cycle: string[] = [];
      const visit = (id: string, path: string[]): boolean => {
        if (state.get(id) === 'done') return false;
        if (state.get(id) === 'visiting') {
          cycle.push(...path, id);
          return true;
        }
        state.set(id, 'visiting');
        if ((edges[id] ?? []).some((next) => visit(next, [...path, id]))) return true;
        state.set(id, 'done');
        return false;
      };
      for (const id of Object.keys(edges)) if (visit(id, [])) break;

      // Assess
      expect(cycle).toEqual([]);
    },
  );
});

describe('finding 2: no security group allows all egress', () => {
  const CONFIGURATIONS = { ...MODES, 'existing database, no endpoints': EXISTING_NO_ENDPOINTS };

  it.each(Object.entries(CONFIGURATIONS))(
    'gives every security group explicit egress or none: %s',
    (_name, { template }) => {
      // Why: a group with no egress rule at all gets CloudFormation's allow-all default; the placeholder or real rules prevent it.
      // Prepare
      const resources = template.toJSON().Resources as Resources;
      const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup');

      // Act
      const open = groups.filter(([id, r]) => {
        const inline = (r.Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[];
        const separate = egressOf(template, id).length;
        return (
          inline.some((rule) => rule.IpProtocol === '-1' || rule.CidrIpv6 === '::/0') ||
          (inline.length === 0 && separate === 0)
        );
      });

      // Assess
      expect(groups.length).toBeGreaterThan(0);
      expect(open.map(([id]) => id)).toEqual([]);
    },
  );

  it('lets the functions and the rotation functions reach the database port and the endpoints only', () => {
    // Why: a group's description restricts nothing; only its egress rules keep a function off the rest of the network.
    // Prepare
    const { stack, template } = NEW;
    const database = stack.database as NewDatabase;
    const id = (c: { node: { defaultChild?: unknown } }) => logicalId(stack, c);
    const functionsGroup = stack.getLogicalId(
      stack.node.findChild('FunctionsSecurityGroup').node.defaultChild as CfnElement,
    );
    const endpointsGroup = stack.getLogicalId(
      stack.node.findChild('Endpoints').node.findChild('SecurityGroup').node.defaultChild as CfnElement,
    );
    const databasePort = { 'Fn::GetAtt': [id(database.instance), 'Endpoint.Port'] };
    const expected = [
      { protocol: 'tcp', port: databasePort, to: id(database.securityGroup) },
      { protocol: 'tcp', port: 443, to: endpointsGroup },
    ];

    // Act
    const functions = egressOf(template, functionsGroup);
    const rotation = egressOf(template, id(database.rotationSecurityGroup!));
    const others = [id(database.securityGroup), endpointsGroup].map((g) => egressOf(template, g));

    // Assess
    expect(functions).toEqual(expected);
    expect(rotation).toEqual(expected);
    expect(others).toEqual([[], []]);
  });

  it('sends only HTTPS out of the VPC when an existing VPC has no endpoints of the stack', () => {
    // Why: without the stack's endpoints the APIs are reached through a NAT or endpoints the stack does not know; nothing but 443 is needed.
    // Prepare
    const { stack, template } = EXISTING_NO_ENDPOINTS;
    const functionsGroup = stack.getLogicalId(
      stack.node.findChild('FunctionsSecurityGroup').node.defaultChild as CfnElement,
    );

    // Act
    const egress = egressOf(template, functionsGroup);

    // Assess
    expect(egress).toEqual([
      { protocol: 'tcp', port: 443, to: '0.0.0.0/0' },
      { protocol: 'tcp', port: 5432, to: 'sg-0cccccccccccccccc' },
    ]);
  });
});

describe('finding 3: the report sends from the configured sender only', () => {
  it('pins ses:FromAddress to the sender address, not its whole domain', () => {
    // Why: the domain identity in the resources would otherwise let the role send as any address of the domain.
    // Prepare
    const { stack, template } = NEW;

    // Act
    const ses = statementsOf(template, logicalId(stack, stack.report.role!)).filter((s) =>
      actions(s).includes('ses:SendEmail'),
    );

    // Assess
    expect(ses).toHaveLength(1);
    expect(ses[0]!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'reports@example.com' } });
  });
});

describe('finding 4: cdk-nag acknowledgements that are true of the template', () => {
  it.each(Object.entries(functionsOf(NEW.stack)))(
    'gives the %s role no managed policy and logs to its own group only',
    (_name, fn) => {
      // Why: AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole allow writing to every log group of the account.
      // Prepare
      const { stack, template } = NEW;
      const role = (template.toJSON().Resources as Resources)[logicalId(stack, fn.role!)]!;
      const logGroup = (
        (template.toJSON().Resources as Resources)[logicalId(stack, fn)]!.Properties.LoggingConfig as {
          LogGroup: { Ref: string };
        }
      ).LogGroup.Ref;

      // Act
      const statements = statementsOf(template, logicalId(stack, fn.role!));
      const logs = statements.filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      const onAnything = statements.filter((s) => resourcesOf(s).includes('*'));

      // Assess
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(logs).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
        },
      ]);
      // The one statement on "*" (acknowledged as IAM5) holds the network-interface actions only.
      expect(onAnything.map(actions)).toEqual([
        [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
      ]);
    },
  );

  it('gives each schedule its own role, which can invoke its one function only', () => {
    // Why: each schedule role's IAM5 acknowledgement says it invokes one function; a shared role would make that false.
    // Prepare
    const { stack, template } = NEW;
    const targets = { incremental: stack.incremental, fullRebuild: stack.fullRebuild, report: stack.report };

    // Act
    const invokable = Object.fromEntries(
      Object.entries(stack.schedulerRoles).map(([name, role]) => [
        name,
        statementsOf(template, logicalId(stack, role))
          .filter((s) => actions(s).includes('lambda:InvokeFunction'))
          .flatMap(resourcesOf),
      ]),
    );
    const roleOf = Object.fromEntries(
      Object.entries(stack.schedules).map(([name, schedule]) => [
        name,
        (
          (template.toJSON().Resources as Resources)[logicalId(stack, schedule)]!.Properties.Target as {
            RoleArn: unknown;
          }
        ).RoleArn,
      ]),
    );

    // Assess
    for (const [name, fn] of Object.entries(targets)) {
      const arn = { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] };
      expect(invokable[name]).toEqual([arn, { 'Fn::Join': ['', [arn, ':*']] }]);
      expect(roleOf[name]).toEqual({
        'Fn::GetAtt': [logicalId(stack, stack.schedulerRoles[name as keyof typeof targets]), 'Arn'],
      });
    }
    expect(new Set(Object.values(roleOf).map((r) => JSON.stringify(r))).size).toBe(3);
  });

  it('says in the single-AZ acknowledgement that the trades live on the instance, and drops it with a standby', () => {
    // Why: the acknowledged risk is the trades themselves (trade_records), not only allocations a rebuild recomputes.
    // Prepare
    const reasonOf = (stack: FifoLedgerStack) =>
      (stack.database as NewDatabase).instance.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([rule]) => /AwsSolutions-RDS3$/.test(rule))
        .map(([, reason]) => reason)
        .join('');

    // Act
    const single = reasonOf(NEW.stack);
    const multi = reasonOf(buildStack({ ...NEW_DATABASE_CONTEXT, databaseMultiAz: 'true' }).stack);

    // Assess
    expect(single).toContain('trade_records');
    expect(single).toContain('databaseMultiAz=true');
    expect(single).not.toMatch(/derived data/);
    expect(multi).toBe('');
  });
});
