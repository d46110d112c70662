/**
 * The database the functions use, in one of two modes behind one interface:
 * - NewDatabase: a VPC (isolated subnets, no NAT) and an encrypted RDS PostgreSQL instance
 *   with backups, deletion protection and a generated, rotated owner (master) secret;
 * - ExistingDatabase: a database that already exists (the bot's), described by ids from
 *   configuration: no lookup, no AWS credentials at synth.
 */
import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IDependable } from 'constructs';

/** What the functions need from a database, whichever mode it is in. */
export interface IFifoDatabase extends IDependable {
  /** The VPC the database is reachable in. */
  readonly vpc: ec2.IVpc;
  /** The subnets the functions (and the VPC endpoints) go in. */
  readonly functionSubnets: ec2.SubnetSelection;
  /**
   * The owner's secret, {username, password[, host, port, dbname]}: the user that runs the
   * migrations and creates the functions' logins (the migrate function alone reads it).
   */
  readonly secret: secretsmanager.ISecret;
  /** The endpoint's host name. */
  readonly host: string;
  /** The endpoint's port, as text (an environment variable's value). */
  readonly port: string;
  /** The database name; undefined leaves it to the secret's dbname. */
  readonly databaseName?: string;
  /** Lets `peer` open connections to the database port. */
  allowConnectionsFrom(peer: ec2.IConnectable): void;
}

export interface NewDatabaseProps {
  /**
   * The instance class and size.
   * @default ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * The PostgreSQL major version.
   * @default rds.PostgresEngineVersion.VER_17
   */
  readonly engineVersion?: rds.PostgresEngineVersion;
  /**
   * Initial storage in GiB (gp3); storage grows automatically up to 5x this.
   * @default 20
   */
  readonly allocatedStorageGiB?: number;
  /**
   * A standby in a second availability zone.
   * @default false
   */
  readonly multiAz?: boolean;
  /**
   * Refuse to delete the instance (turn off before `cdk destroy`).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * How long automated backups (point-in-time recovery) are kept.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;
  /**
   * The database created in the instance.
   * @default 'fifo'
   */
  readonly databaseName?: string;
  /**
   * The master user, whose credentials go in the generated secret.
   * @default 'fifo_ledger'
   */
  readonly username?: string;
  /**
   * How often the generated secret's password is rotated; null disables rotation.
   * @default Duration.days(30)
   */
  readonly secretRotation?: Duration | null;
  /**
   * Availability zones the VPC spans (the instance's subnet group needs two).
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * How long the VPC flow log (rejected traffic) is kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** A new VPC and RDS PostgreSQL instance. */
export class NewDatabase extends Construct implements IFifoDatabase {
  public readonly vpc: ec2.Vpc;
  public readonly instance: rds.DatabaseInstance;
  public readonly functionSubnets: ec2.SubnetSelection;
  public readonly secret: secretsmanager.ISecret;
  public readonly host: string;
  public readonly port: string;
  public readonly databaseName: string;
  /** The instance's security group (ingress only). */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The secret's rotation function (it must reach the Secrets Manager endpoint). */
  public readonly rotationSecurityGroup?: ec2.SecurityGroup;
  /** The rotation interval of the generated secrets; undefined when rotation is off. */
  public readonly rotation?: Duration;
  /** The rotation schedule, which rotates at once when created: it must wait for the endpoint. */
  public readonly rotationSchedule?: secretsmanager.RotationSchedule;

  constructor(scope: Construct, id: string, props: NewDatabaseProps = {}) {
    super(scope, id);
    const allocatedStorage = props.allocatedStorageGiB ?? 20;
    if (!Token.isUnresolved(allocatedStorage) && (allocatedStorage < 20 || allocatedStorage > 65536)) {
      throw new Error(`allocatedStorageGiB must be from 20 to 65536, got ${allocatedStorage}`);
    }
    this.databaseName = props.databaseName ?? 'fifo';

    // Isolated subnets and no NAT gateway: the functions reach AWS APIs through interface
    // endpoints (see ServiceEndpoints), and nothing here can reach the internet.
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      restrictDefaultSecurityGroup: true,
    });
    this.vpc.addFlowLog('FlowLog', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
    });
    this.functionSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    const engine = rds.DatabaseInstanceEngine.postgres({
      version: props.engineVersion ?? rds.PostgresEngineVersion.VER_17,
    });
    // Nothing in the database opens connections: no egress at all. Ingress comes from the
    // functions and the rotation functions (allowConnectionsFrom, SecretRotation).
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'fifo-ledger database: PostgreSQL from the functions and secret rotation; no egress',
      allowAllOutbound: false,
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      securityGroups: [this.securityGroup],
      instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      vpc: this.vpc,
      vpcSubnets: this.functionSubnets,
      credentials: rds.Credentials.fromGeneratedSecret(props.username ?? 'fifo_ledger'),
      databaseName: this.databaseName,
      allocatedStorage,
      maxAllocatedStorage: allocatedStorage * 5,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      multiAz: props.multiAz ?? false,
      backupRetention: props.backupRetention ?? Duration.days(7),
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      // Refuse unencrypted connections on the server side too.
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        parameters: { 'rds.force_ssl': '1' },
      }),
    });
    this.secret = this.instance.secret!;
    this.host = this.instance.dbInstanceEndpointAddress;
    this.port = this.instance.dbInstanceEndpointPort;

    const rotation = props.secretRotation === undefined ? Duration.days(30) : props.secretRotation;
    if (rotation) {
      // Its egress rules come with the grants: to the database port (SecretRotation) and to the
      // Secrets Manager endpoint (ServiceEndpoints).
      this.rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: this.vpc,
        description: 'fifo-ledger secret rotation: out to the database and the Secrets Manager endpoint',
        allowAllOutbound: false,
      });
      this.rotation = rotation;
      this.instance.addRotationSingleUser({
        automaticallyAfter: rotation,
        securityGroup: this.rotationSecurityGroup,
      });
      this.rotationSchedule = this.node
        .findAll()
        .find((c): c is secretsmanager.RotationSchedule => c instanceof secretsmanager.RotationSchedule);
    } else {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Secret rotation was turned off in the configuration (databaseSecretRotationDays=0).',
      });
    }

    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The default port 5432 is kept for compatibility with the bot and its tools; the instance is ' +
        'in isolated subnets and accepts connections only from the functions and the secret rotation ' +
        'functions security groups.',
    });
    if (!(props.multiAz ?? false)) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'Single-AZ by default to halve the cost, a choice of the operator: databaseMultiAz=true adds a ' +
          'synchronous standby. The instance holds trade_records, the trades themselves, beside the ' +
          'allocations a full rebuild can recompute from them: without a standby, an outage of its zone ' +
          'stops the database until RDS recovers it, and a point-in-time restore from the automated backups ' +
          '(storage encrypted, retained databaseBackupRetentionDays) can lose the last five minutes of writes.',
      });
    }
  }

  public allowConnectionsFrom(peer: ec2.IConnectable): void {
    this.instance.connections.allowDefaultPortFrom(peer, 'fifo-ledger functions');
  }
}

export interface ExistingDatabaseProps {
  /** The VPC the database is in. */
  readonly vpc: ec2.IVpc;
  /** Subnets of that VPC, with a route to the database, for the functions. */
  readonly subnets: ec2.ISubnet[];
  /** The database's security group: the stack adds an ingress rule from the functions. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * The owner's secret, {username, password[, host, port, dbname]}: a user with CREATEROLE that
   * runs the migrations (and owns what they create).
   */
  readonly secret: secretsmanager.ISecret;
  /** The endpoint's host name. */
  readonly host: string;
  /**
   * The endpoint's port.
   * @default 5432
   */
  readonly port?: number;
  /**
   * The database name.
   * @default - the secret's dbname, else 'postgres'
   */
  readonly databaseName?: string;
}

/** A database that already exists; the stack creates nothing for it but one ingress rule. */
export class ExistingDatabase extends Construct implements IFifoDatabase {
  public readonly vpc: ec2.IVpc;
  public readonly functionSubnets: ec2.SubnetSelection;
  public readonly secret: secretsmanager.ISecret;
  public readonly host: string;
  public readonly port: string;
  public readonly databaseName?: string;
  private readonly securityGroup: ec2.ISecurityGroup;
  private readonly portNumber: number;

  constructor(scope: Construct, id: string, props: ExistingDatabaseProps) {
    super(scope, id);
    if (props.subnets.length === 0) throw new Error('supply at least one subnet for the functions, got none');
    this.portNumber = props.port ?? 5432;
    this.vpc = props.vpc;
    this.functionSubnets = { subnets: props.subnets };
    this.secret = props.secret;
    this.host = props.host;
    this.port = String(this.portNumber);
    this.databaseName = props.databaseName;
    this.securityGroup = props.securityGroup;
  }

  public allowConnectionsFrom(peer: ec2.IConnectable): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(this.portNumber), 'fifo-ledger functions');
  }
}
