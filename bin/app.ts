/**
 * The CDK app: the only place that reads context (cdk.json, -c key=value). It validates
 * the settings (lib/config.ts), builds the stack and runs cdk-nag's AwsSolutions pack on
 * every synth, which fails on any finding that is not acknowledged with a reason.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ConfigurationError,
  contextSchema,
  FifoLedgerStack,
  isSettingKey,
  parseConfig,
} from '../lib/index.ts';

const app = new App();

// Every plain key of the context is a setting; a misspelled one is reported, not ignored.
const context: Record<string, unknown> = {};
for (const key of new Set([...Object.keys(contextSchema.shape), ...Object.keys(app.node.getAllContext())])) {
  if (!isSettingKey(key)) continue;
  const value = app.node.tryGetContext(key);
  if (value !== undefined && value !== null && value !== '') context[key] = value;
}

let config: ReturnType<typeof parseConfig>;
try {
  config = parseConfig(context);
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

new FifoLedgerStack(app, config.stackName, config.props);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
