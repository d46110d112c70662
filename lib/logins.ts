/**
 * The functions' two database logins, each with its own generated secret (the owner's secret,
 * the RDS master or the operator's, is the migrate function's alone):
 *
 * - the job login, for incremental and full-rebuild: member of fifo_ledger_writer;
 * - the report login, for the report: member of fifo_ledger_reader.
 *
 * The stack only generates the secrets; the migrate function creates the logins and sets
 * their passwords from them on every deploy (shared/db/logins.ts). With a new database the
 * secrets are attached to the instance and rotated by Secrets Manager's PostgreSQL multi-user
 * rotation, which alternates between the login and a `<login>_clone` member of it, through the
 * owner's secret. That rotation needs the login to exist, so its schedule must wait for the
 * migration trigger (see `rotationSchedules`). With an existing database nothing rotates them:
 * the README gives the manual procedure.
 */
import { type Duration, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { READER_ROLE, WRITER_ROLE } from '../shared/db/logins.ts';

/**
 * Characters kept out of generated passwords: those the RDS rotation functions leave out
 * (aws-rds DEFAULT_PASSWORD_EXCLUDE_CHARS), so a rotated password looks like the first one.
 */
export const LOGIN_PASSWORD_EXCLUDE_CHARS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';

/** The logins' default name prefix: fifo_ledger_job and fifo_ledger_report. */
export const DEFAULT_LOGIN_PREFIX = 'fifo_ledger';

/** The names `prefix` gives the two logins. */
export function loginUsernames(prefix: string = DEFAULT_LOGIN_PREFIX): { job: string; report: string } {
  return { job: `${prefix}_job`, report: `${prefix}_report` };
}

/** Rotation of the login secrets (new database only). */
export interface LoginRotationOptions {
  /** How often each login's password is rotated. */
  readonly automaticallyAfter: Duration;
  /** The VPC the rotation functions run in. */
  readonly vpc: ec2.IVpc;
  /** Their subnets. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Their security group (out to the database and the Secrets Manager endpoint). */
  readonly securityGroup: ec2.ISecurityGroup;
}

export interface DatabaseLoginsProps {
  /** The owner's secret: the migrations run with it, and multi-user rotation uses it. */
  readonly ownerSecret: secretsmanager.ISecret;
  /**
   * The logins' name prefix.
   * @default 'fifo_ledger'
   */
  readonly usernamePrefix?: string;
  /**
   * A new database: the secrets are attached to it (host, port, engine) and may be rotated.
   * @default - an existing database, described by `host`, `port` and `databaseName`
   */
  readonly instance?: rds.DatabaseInstance;
  /**
   * Rotate the secrets (only with `instance`).
   * @default - not rotated
   */
  readonly rotation?: LoginRotationOptions;
  /** The endpoint's host, recorded in the secrets (an existing database). */
  readonly host: string;
  /** The endpoint's port, as text. */
  readonly port: string;
  /**
   * The database, recorded in the secrets.
   * @default - none: the secret's reader uses its own default
   */
  readonly databaseName?: string;
}

/** The job and report logins' secrets, generated, and rotated when the database is the stack's. */
export class DatabaseLogins extends Construct {
  /** {username, password, ...} of the job login (member of fifo_ledger_writer). */
  public readonly jobSecret: secretsmanager.ISecret;
  /** {username, password, ...} of the report login (member of fifo_ledger_reader). */
  public readonly reportSecret: secretsmanager.ISecret;
  /** The login names the secrets start with (multi-user rotation later alternates with `_clone`). */
  public readonly usernames: { readonly job: string; readonly report: string };
  /**
   * The rotation schedules. Creating one rotates at once, and the rotation logs in as the
   * login first: make them depend on whatever creates the logins (the migration trigger).
   */
  public readonly rotationSchedules: secretsmanager.RotationSchedule[];

  constructor(scope: Construct, id: string, props: DatabaseLoginsProps) {
    super(scope, id);
    if (props.rotation && !props.instance) {
      throw new Error('login rotation needs the stack-created database instance, got an existing database');
    }
    this.usernames = loginUsernames(props.usernamePrefix);
    const login = (name: 'Job' | 'Report', username: string, purpose: string) => {
      const description = `fifo-ledger: database login ${username} (${purpose})`;
      const generated = props.instance
        ? new rds.DatabaseSecret(this, `${name}Secret`, {
            username,
            dbname: props.databaseName,
            masterSecret: props.ownerSecret,
            excludeCharacters: LOGIN_PASSWORD_EXCLUDE_CHARS,
          })
        : new secretsmanager.Secret(this, `${name}Secret`, {
            generateSecretString: {
              // The fields Secrets Manager's PostgreSQL multi-user rotation function reads, so
              // an operator can attach it later without rewriting the secret.
              secretStringTemplate: JSON.stringify({
                engine: 'postgres',
                host: props.host,
                port: Number(props.port),
                ...(props.databaseName ? { dbname: props.databaseName } : {}),
                username,
                masterarn: props.ownerSecret.secretArn,
              }),
              generateStringKey: 'password',
              excludeCharacters: LOGIN_PASSWORD_EXCLUDE_CHARS,
              passwordLength: 32,
            },
          });
      (generated.node.defaultChild as secretsmanager.CfnSecret).description = description;
      // Attached: Secrets Manager adds the instance's host, port and engine (rotation needs them).
      const secret = props.instance ? (generated as rds.DatabaseSecret).attach(props.instance) : generated;
      if (props.rotation && props.instance) {
        new secretsmanager.SecretRotation(this, `${name}Rotation`, {
          application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_MULTI_USER,
          secret,
          masterSecret: props.ownerSecret,
          target: props.instance,
          vpc: props.rotation.vpc,
          vpcSubnets: props.rotation.vpcSubnets,
          securityGroup: props.rotation.securityGroup,
          automaticallyAfter: props.rotation.automaticallyAfter,
          excludeCharacters: LOGIN_PASSWORD_EXCLUDE_CHARS,
        });
      } else {
        Validations.of(generated).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason: props.instance
            ? 'Secret rotation was turned off in the configuration (databaseSecretRotationDays=0).'
            : `Not rotated by the stack: the database is the operator's, and Secrets Manager's PostgreSQL ` +
              `rotation function needs the owner secret to hold host and engine, which the stack cannot check. ` +
              `The README ("Rotating the login passwords") gives the manual procedure.`,
        });
      }
      return secret;
    };
    this.jobSecret = login(
      'Job',
      this.usernames.job,
      `incremental and full rebuild, member of ${WRITER_ROLE}`,
    );
    this.reportSecret = login('Report', this.usernames.report, `report, member of ${READER_ROLE}`);
    this.rotationSchedules = this.node
      .findAll()
      .filter((c): c is secretsmanager.RotationSchedule => c instanceof secretsmanager.RotationSchedule);
  }
}
