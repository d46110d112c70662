/**
 * The deploy-time migration: a CDK trigger that invokes the migrate function once its
 * prerequisites exist, and that everything connecting as a login waits for, because the migrate
 * function creates the logins (README, "Database logins and secrets").
 */
import { type CfnResource, Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as triggers from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';

export interface MigrateOnDeployProps {
  /** The migrate function. */
  readonly handler: lambda.Function;
  /** What the migration needs in place: the database, its ingress rule, the endpoints. */
  readonly after: Construct[];
  /**
   * A value that changes on every deploy, so that the trigger runs on every deploy.
   * @default - it runs on the first deploy and whenever the migrate function changes
   */
  readonly runToken?: string;
}

/** Runs the migrations (and sets up the logins) on deploy. */
export class MigrateOnDeploy extends triggers.Trigger {
  constructor(scope: Construct, id: string, props: MigrateOnDeployProps) {
    super(scope, id, {
      handler: props.handler,
      timeout: Duration.minutes(5),
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      executeOnHandlerChange: true,
    });
    this.executeAfter(...props.after);
    if (props.runToken) {
      // A changed property makes CloudFormation update the trigger, which invokes it again.
      const resource = this.node.findChild('Default').node.defaultChild as CfnResource;
      resource.addPropertyOverride('RunToken', props.runToken);
    }
  }
}
