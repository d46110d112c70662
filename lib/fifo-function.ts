/**
 * FifoFunction: every fifo-ledger Lambda, built the same way. Node.js 24 on arm64, bundled
 * by the local esbuild (never Docker) as ESM with a createRequire banner, pg-native left
 * out, an explicit log group with retention, in the database's VPC, TLS to RDS verified
 * against the runtime's Amazon CA bundle. Its role holds no AWS managed policy: it may write
 * to its own log group and manage its VPC network interfaces, plus what the stack grants it.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, LAMBDA_CA_BUNDLE, sessionLimitsFor } from '../functions/commons/constants.ts';

/** The repository root: the esbuild project root and where package-lock.json lives. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The entry of a handler folder under functions/. */
export function functionEntry(handlerFolder: string): string {
  return fileURLToPath(new URL(`../functions/${handlerFolder}/index.ts`, import.meta.url));
}

/**
 * ESM output still meets CommonJS dependencies (pg, node-pg-migrate) that call `require`:
 * give the bundle a real one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __fifoCreateRequire } from 'node:module';const require = __fifoCreateRequire(import.meta.url);";

/** The runtime of every function: the newest Node.js LTS Lambda offers in this aws-cdk-lib. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface FifoFunctionProps {
  /**
   * The folder under functions/ holding index.ts with the exported `handler`. Not the Lambda's
   * name: CloudFormation generates that (the stack's `*FunctionName` outputs give it).
   */
  readonly handlerFolder: string;
  /**
   * A description shown in the Lambda console.
   * @default - none
   */
  readonly description?: string;
  /**
   * The VPC the function runs in (the database's).
   */
  readonly vpc: ec2.IVpc;
  /** The subnets the function's network interfaces go in. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The security groups of the function (allowed to reach the database and the endpoints). */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * How long an invocation may run.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB (CPU scales with it).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Environment variables, added to the ones every function gets (CA bundle, source maps).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Node flags added to NODE_OPTIONS, such as V8 heap limits.
   * @default none: V8 sizes its heap on its own
   */
  readonly nodeFlags?: readonly string[];
  /**
   * Reserved concurrency: 1 keeps a writer from overlapping itself.
   * @default - no reserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Asynchronous invocations (schedules): how long an event may wait before it is dropped
   * to the failure destination. Keep it below the schedule's interval.
   * @default - Lambda's default, 6 hours
   */
  readonly maxEventAge?: Duration;
  /**
   * Asynchronous invocations: retries after a function error (0 to 2).
   * @default - Lambda's default, 2
   */
  readonly retryAttempts?: number;
  /**
   * Asynchronous invocations: where an event goes once it failed or expired.
   * @default - none
   */
  readonly onFailure?: lambda.IDestination;
  /**
   * Shell commands run after esbuild, with `{inputDir}` and `{outputDir}` substituted
   * (for files the bundle reads at run time, such as migrations).
   * @default - none
   */
  readonly afterBundling?: string[];
}

function sessionEnvironment(timeout: Duration): Record<string, string> {
  const limits = sessionLimitsFor(timeout.toSeconds());
  return {
    [ENV.dbStatementTimeoutMs]: String(limits.statementTimeoutMs),
    [ENV.dbLockTimeoutMs]: String(limits.lockTimeoutMs),
    [ENV.dbIdleInTransactionTimeoutMs]: String(limits.idleInTransactionTimeoutMs),
  };
}

/** A fifo-ledger Lambda function. */
export class FifoFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: FifoFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An explicit role, so that CDK attaches none of the AWS managed policies: both
    // AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole allow writing to every
    // log group of the account.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `fifo-ledger ${props.handlerFolder} function: its own log group, its VPC network interfaces`,
    });
    // Logs: its own group only (the group exists, so no CreateLogGroup).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    // What Lambda does with the role for a function in a VPC: the actions of
    // AWSLambdaVPCAccessExecutionRole without its logs:* (Lambda developer guide, "Giving Lambda
    // functions access to resources in an Amazon VPC").
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The one statement on "*" holds the six EC2 network interface actions Lambda performs for a ' +
        'function in a VPC, those of the AWS managed AWSLambdaVPCAccessExecutionRole without its logs:* on ' +
        '"*", on "*" as the Lambda guide lists them: ec2:DescribeNetworkInterfaces works only on "*", and ' +
        'DeleteNetworkInterface needs every resource ID. Every other statement of the role names its ' +
        'resources (its log group, its database secrets, the failure queue, SES identities).',
    });
    const afterBundling = props.afterBundling ?? [];
    super(scope, id, {
      role,
      entry: functionEntry(props.handlerFolder),
      handler: 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 512,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      maxEventAge: props.maxEventAge,
      retryAttempts: props.retryAttempts,
      onFailure: props.onFailure,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      environment: {
        // Node 20+ Lambda runtimes no longer trust the Amazon RDS CAs by default; this file
        // (shipped in the runtime) holds them, and Node adds it to its default store.
        NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
        // No statement, lock or idle transaction may outlive the function (constants.ts).
        ...sessionEnvironment(props.timeout ?? Duration.minutes(1)),
        NODE_OPTIONS: ['--enable-source-maps', ...(props.nodeFlags ?? [])].join(' '),
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // pg loads pg-native only when asked for it; the pure-JS driver is what runs.
        externalModules: ['pg-native'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        keepNames: true,
        forceDockerBundling: false,
        commandHooks:
          afterBundling.length === 0
            ? undefined
            : {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) =>
                  afterBundling.map((command) =>
                    command.replaceAll('{inputDir}', inputDir).replaceAll('{outputDir}', outputDir),
                  ),
              },
      },
    });
  }
}
