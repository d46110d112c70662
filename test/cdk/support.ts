/** Builds the stack the way bin/app.ts does, from context values, with bundling skipped (fast). */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FifoLedgerStack, parseConfig } from '../../lib/index.ts';

/** Context of a typical deployment that mails reports and alarms. */
export const NEW_DATABASE_CONTEXT = {
  reportSender: 'FIFO Reports <reports@example.com>',
  reportRecipients: 'ops@example.com,cfo@example.org',
  alarmEmail: 'alarms@example.com',
};

/** Context of a deployment against the bot's existing database. */
export const EXISTING_DATABASE_CONTEXT = {
  ...NEW_DATABASE_CONTEXT,
  databaseMode: 'existing',
  databaseHost: 'bot-db.abcdefgh.eu-west-1.rds.amazonaws.com',
  databasePort: '5432',
  databaseName: 'bot',
  databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bot-db-credentials-AbCdEf',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  availabilityZones: 'eu-west-1a,eu-west-1b',
  databaseSecurityGroupId: 'sg-0cccccccccccccccc',
};

export function buildStack(context: Record<string, unknown> = NEW_DATABASE_CONTEXT) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(context);
  const stack = new FifoLedgerStack(app, config.stackName, config.props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** How many resources of `type` have properties matching `properties` (a Match pattern or literal). */
export function countMatching(template: Template, type: string, properties: Record<string, unknown>): number {
  return Object.keys(template.findResources(type, { Properties: properties })).length;
}

/** CloudFormation's Dimensions list as a name-to-value record (order-free comparison). */
export function dimensionRecord(dimensions: unknown): Record<string, unknown> {
  return Object.fromEntries((dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, d.Value]));
}
