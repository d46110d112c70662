/** Template assertions for mode "existing": the bot's database, VPC and secret, taken from context without lookups. */
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/commons/constants.ts';
import { buildStack, countMatching, EXISTING_DATABASE_CONTEXT } from './support.ts';

const { stack, template } = buildStack(EXISTING_DATABASE_CONTEXT);
const functionsSecurityGroup = {
  'Fn::GetAtt': [
    stack.getLogicalId(stack.node.findChild('FunctionsSecurityGroup').node.defaultChild as CfnElement),
    'GroupId',
  ],
};

describe('existing database', () => {
  it('creates no VPC and no database, and only the two login secrets', () => {
    // Why: mode "existing" must never provision a second database beside the bot's; the owner secret is the operator's.
    // Prepare
    const resources = template.toJSON().Resources as Record<string, { Type: string }>;

    // Act
    const types = new Set(Object.values(resources).map((r) => r.Type));
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));

    // Assess
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::RDS::DBInstance']) {
      expect(types.has(type)).toBe(false);
    }
    expect(secrets).toEqual([
      stack.getLogicalId(stack.logins.jobSecret.node.defaultChild as CfnElement),
      stack.getLogicalId(stack.logins.reportSecret.node.defaultChild as CfnElement),
    ]);
  });

  it('puts the functions in the given subnets and points them at the given endpoint, the migration at the given secret', () => {
    // Why: the ids come from context; a synth with no AWS credentials must use them verbatim.
    // Prepare
    const place = {
      VpcConfig: {
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
        SecurityGroupIds: [functionsSecurityGroup],
      },
      Environment: {
        Variables: Match.objectLike({
          [ENV.dbHost]: 'bot-db.abcdefgh.eu-west-1.rds.amazonaws.com',
          [ENV.dbPort]: '5432',
          [ENV.dbName]: 'bot',
        }),
      },
    };
    const expected = {
      VpcConfig: {
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
        SecurityGroupIds: [functionsSecurityGroup],
      },
      Environment: {
        Variables: Match.objectLike({
          [ENV.dbHost]: 'bot-db.abcdefgh.eu-west-1.rds.amazonaws.com',
          [ENV.dbPort]: '5432',
          [ENV.dbName]: 'bot',
          [ENV.dbSecretArn]: EXISTING_DATABASE_CONTEXT.databaseSecretArn,
        }),
      },
    };

    // Act
    const placed = template.findResources('AWS::Lambda::Function', { Properties: place });
    const asOwner = template.findResources('AWS::Lambda::Function', { Properties: expected });

    // Assess
    expect(Object.keys(placed)).toHaveLength(4);
    // Least privilege: only the migration connects with the operator's secret.
    expect(Object.keys(asOwner)).toEqual([stack.getLogicalId(stack.migrate.node.defaultChild as CfnElement)]);
  });

  it('opens the database security group to the functions, on the database port', () => {
    // Why: the bot's database must admit the functions; the stack owns only this one rule.
    // Prepare
    const rule = {
      GroupId: 'sg-0cccccccccccccccc',
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: functionsSecurityGroup,
    };

    // Act
    const rules = countMatching(template, 'AWS::EC2::SecurityGroupIngress', rule);
    const groupsInVpc = countMatching(template, 'AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0123456789abcdef0',
    });

    // Assess
    expect(rules).toBe(1);
    expect(groupsInVpc).toBeGreaterThan(0);
  });

  it('grants read access to the given secret to the migration only, on its complete ARN', () => {
    // Why: the secret ARN must be the complete one so that the grant (and GetSecretValue) match exactly.
    // Least privilege: the owner's secret is the migrate function's alone.
    // Prepare
    const statement = Match.objectLike({
      Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
      Resource: EXISTING_DATABASE_CONTEXT.databaseSecretArn,
    });

    // Act
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([statement]) } },
    });

    // Assess
    expect(Object.values(policies).map((p) => p.Properties.Roles)).toEqual([
      [{ Ref: stack.getLogicalId(stack.migrate.role!.node.defaultChild as CfnElement) }],
    ]);
  });

  it('creates the endpoints in one subnet per zone, and runs migrations after the ingress rule', () => {
    // Why: an endpoint takes one interface per zone; the migration must not run before the database admits it.
    // Prepare
    const trigger = Object.values(template.findResources('Custom::Trigger'))[0]!;
    const ingress = Object.keys(
      template.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { GroupId: 'sg-0cccccccccccccccc' },
      }),
    );

    // Act
    const dependsOn = trigger.DependsOn as string[];

    // Assess
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      PrivateDnsEnabled: true,
      VpcEndpointType: 'Interface',
    });
    expect(dependsOn).toEqual(expect.arrayContaining(ingress));
  });

  it('skips the endpoints when the subnets already reach AWS (NAT or existing endpoints)', () => {
    // Why: a second private-DNS endpoint for the same service in one VPC fails the deployment.
    // Prepare
    const context = { ...EXISTING_DATABASE_CONTEXT, createVpcEndpoints: 'false' };

    // Act
    const { template: noEndpoints } = buildStack(context);

    // Assess
    noEndpoints.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});
