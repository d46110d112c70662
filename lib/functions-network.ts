/**
 * The database (new or existing) and how the functions reach it and AWS: their security group
 * (no egress but what the grants add), the database's ingress rule from it, and the Secrets
 * Manager and SES endpoints (README, "Network, secrets and TLS").
 *
 * Not a construct of its own: it adds its resources to the stack under the ids they had before
 * the stack was split, because a logical id follows the construct path, and the ingress rules'
 * ids embed the security groups' paths too. A new level would replace them on the next deploy.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ExistingDatabase, NewDatabase } from './database.ts';
import { ServiceEndpoints } from './endpoints.ts';
import type { ExistingDatabaseSettings, NewDatabaseSettings } from './fifo-ledger-stack.ts';
import type { SettingProblem } from './setting-problems.ts';

export interface FunctionsNetworkProps {
  /** Which database, and how to reach it. */
  readonly database: NewDatabaseSettings | ExistingDatabaseSettings;
  /** Create the Secrets Manager and SES endpoints (resolved: see FifoLedgerStackProps). */
  readonly createVpcEndpoints: boolean;
  /** Create the SES endpoint too: only the report function calls SES, and only when it mails. */
  readonly sesEndpoint: boolean;
}

/** The rules of the network settings: checked by the stack, reported by lib/config.ts. */
export function networkSettingProblems(
  database: NewDatabaseSettings | ExistingDatabaseSettings,
  createVpcEndpoints: boolean,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (database.mode === 'new' && !createVpcEndpoints) {
    problems.push({
      setting: 'createVpcEndpoints',
      message:
        'must stay true with a new database: its VPC has no NAT gateway, so the functions reach Secrets ' +
        'Manager and SES only through the endpoints',
    });
  }
  if (database.mode === 'existing') {
    const subnets = database.subnetIds.length;
    const zones = database.availabilityZones.length;
    if (subnets === 0)
      problems.push({ setting: 'database.subnetIds', message: 'must name at least one subnet' });
    if (zones === 0) {
      problems.push({ setting: 'database.availabilityZones', message: 'must name at least one zone' });
    }
    // Vpc.fromVpcAttributes splits the subnets into equal runs, one run per zone.
    if (subnets > 0 && zones > 0 && subnets % zones !== 0) {
      problems.push({
        setting: 'database.subnetIds',
        message: `must hold the same number of subnets for each of the ${zones} availability zones, in zone order, got ${subnets}`,
      });
    }
  }
  return problems;
}

/** The database and the functions' network, added to `scope` (the stack). */
export class FunctionsNetwork {
  public readonly database: NewDatabase | ExistingDatabase;
  /** The functions' security group: out to the database port and HTTPS to the endpoints. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The endpoints, unless the subnets already reach AWS. */
  public readonly endpoints?: ServiceEndpoints;
  /** What the migration trigger waits for: the database, its ingress rule, the endpoints. */
  public readonly migrationPrerequisites: Construct[];

  constructor(scope: Construct, props: FunctionsNetworkProps) {
    // No egress but what the grants below add: the database port (allowConnectionsFrom) and
    // HTTPS to the endpoints (ServiceEndpoints), or to AWS through the VPC's own route.
    const functionsSecurityGroup = (vpc: ec2.IVpc) =>
      new ec2.SecurityGroup(scope, 'FunctionsSecurityGroup', {
        vpc,
        description: 'fifo-ledger functions: out to the database and the AWS API endpoints',
        allowAllOutbound: false,
      });
    const endpointClients: ec2.IConnectable[] = [];
    const prerequisites: Construct[] = [];
    if (props.database.mode === 'new') {
      const settings = props.database;
      const database = new NewDatabase(scope, 'Database', {
        instanceType: settings.instanceType,
        engineVersion: settings.engineVersion,
        allocatedStorageGiB: settings.allocatedStorageGiB,
        multiAz: settings.multiAz,
        deletionProtection: settings.deletionProtection,
        backupRetention: settings.backupRetention,
        databaseName: settings.databaseName,
        secretRotation: settings.secretRotation,
      });
      this.securityGroup = functionsSecurityGroup(database.vpc);
      if (database.rotationSecurityGroup) endpointClients.push(database.rotationSecurityGroup);
      this.database = database;
    } else {
      const settings = props.database;
      const vpc = ec2.Vpc.fromVpcAttributes(scope, 'ExistingVpc', {
        vpcId: settings.vpcId,
        availabilityZones: settings.availabilityZones,
        privateSubnetIds: settings.subnetIds,
      });
      const databaseSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
        scope,
        'ExistingDatabaseSecurityGroup',
        settings.securityGroupId,
        { mutable: true, allowAllOutbound: true },
      );
      // The ingress rule from the functions is created under the imported group.
      prerequisites.push(databaseSecurityGroup);
      this.database = new ExistingDatabase(scope, 'Database', {
        vpc,
        subnets: vpc.privateSubnets,
        securityGroup: databaseSecurityGroup,
        secret: secretsmanager.Secret.fromSecretCompleteArn(
          scope,
          'ExistingDatabaseSecret',
          settings.secretArn,
        ),
        host: settings.host,
        port: settings.port,
        databaseName: settings.databaseName,
      });
      this.securityGroup = functionsSecurityGroup(vpc);
    }
    const database = this.database;
    database.allowConnectionsFrom(this.securityGroup);
    if (props.createVpcEndpoints) {
      this.endpoints = new ServiceEndpoints(scope, 'Endpoints', {
        vpc: database.vpc,
        subnets: database.functionSubnets,
        clients: [this.securityGroup, ...endpointClients],
        ses: props.sesEndpoint,
      });
      // The first rotation runs as soon as the schedule exists; its function needs the endpoint.
      if (database instanceof NewDatabase) database.rotationSchedule?.node.addDependency(this.endpoints);
    } else {
      // The subnets reach Secrets Manager and SES through a NAT gateway or endpoints of their
      // own, whose addresses the stack does not know: HTTPS out, nothing else.
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to Secrets Manager and SES through the VPC (NAT gateway or its own endpoints)',
      );
    }
    this.migrationPrerequisites = [database, ...prerequisites, ...(this.endpoints ? [this.endpoints] : [])];
  }
}
