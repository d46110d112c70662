/** cdk-nag AwsSolutions (v3 API): no finding left unacknowledged, and every acknowledgement earns its place. */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance, type NagRuleResult } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildStack, EXISTING_DATABASE_CONTEXT, NEW_DATABASE_CONTEXT } from './support.ts';

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'new database, defaults': {},
  'new database, report and alarms': NEW_DATABASE_CONTEXT,
  'new database, multi-AZ, no rotation, schedules off': {
    ...NEW_DATABASE_CONTEXT,
    databaseMultiAz: 'true',
    databaseSecretRotationDays: '0',
    schedulesEnabled: 'false',
  },
  'existing database': EXISTING_DATABASE_CONTEXT,
  'existing database, no endpoints, no reserved concurrency': {
    ...EXISTING_DATABASE_CONTEXT,
    createVpcEndpoints: 'false',
    reserveWriterConcurrency: 'false',
  },
  'new database, partitioned nightly rebuild': {
    ...NEW_DATABASE_CONTEXT,
    fullRebuildPartitions: '8',
    fullRebuildMaxConcurrency: '3',
  },
};

interface Acknowledgement {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** Every AwsSolutions acknowledgement recorded in the construct tree. */
function acknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([key, reason]) => ({
        path: construct.node.path,
        rule: key.replace(/^annotation::/i, ''),
        reason,
      }))
      .filter((a) => a.rule.startsWith('AwsSolutions-')),
  );
}

/**
 * AwsSolutions with every finding kept, acknowledged or not. A NagPack applies each rule through
 * its protected applyRule, the hook cdk-nag's custom packs call; this one records what the rule
 * returns under the id an acknowledgement names ("AwsSolutions-IAM5[Resource::*]").
 */
class EveryFinding extends AwsSolutionsChecks {
  public readonly findings: { rule: string; path: string }[] = [];

  protected override applyRule(params: IApplyRule): void {
    const rule = `${this.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const path = params.node.node.path;
    let result: NagRuleResult;
    try {
      result = params.rule(params.node);
    } catch {
      // The pack reports a rule that throws as a finding of the rule itself.
      result = NagRuleCompliance.NON_COMPLIANT;
    }
    if (result === NagRuleCompliance.NON_COMPLIANT) this.findings.push({ rule, path });
    else if (Array.isArray(result))
      for (const finding of result) this.findings.push({ rule: `${rule}[${finding}]`, path });
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('fails on a finding nobody acknowledged, and still counts an acknowledged one', () => {
    // Why: the checks below pass on empty reports; this shows the reports they read do hold
    // findings, so a new finding in the stack fails the first and a stale acknowledgement the last.
    // Prepare
    const app = new App();
    const queue = new sqs.Queue(new Stack(app, 'Canary'), 'Queue');
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'a queue without a dead-letter queue',
    });
    const everyFinding = new EveryFinding();

    // Act
    const reported = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    everyFinding.validateScope(app);

    // Assess
    expect(reported).toContain('AwsSolutions-SQS4');
    expect(reported).not.toContain('AwsSolutions-SQS3');
    expect(everyFinding.findings).toContainEqual({
      rule: 'AwsSolutions-SQS3',
      path: 'Canary/Queue/Resource',
    });
    expect(everyFinding.findings).toContainEqual({
      rule: 'AwsSolutions-SQS4',
      path: 'Canary/Queue/Resource',
    });
  });

  it.each(Object.entries(CONFIGURATIONS))('reports no unacknowledged finding: %s', (_name, context) => {
    // Why: zero unacknowledged findings (docs/reliability.md §12); each mode and switch adds resources.
    // Prepare
    const { app } = buildStack(context);

    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources[0]?.constructPath}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it.each(Object.entries(CONFIGURATIONS))('gives every acknowledgement a reason: %s', (_name, context) => {
    // Why: an acknowledgement is a decision; a reviewer must be able to read why it was taken.
    // Prepare
    const { app } = buildStack(context);

    // Act
    const acks = acknowledgements(app);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks)
      expect(ack.reason.trim().length, `${ack.rule} at ${ack.path}`).toBeGreaterThan(40);
  });

  it.each(Object.entries(CONFIGURATIONS))('acknowledges only findings that exist: %s', (_name, context) => {
    // Why: a stale acknowledgement would silently cover a future finding on the same construct.
    // Prepare
    const { app } = buildStack(context);
    const everyFinding = new EveryFinding();

    // Act
    everyFinding.validateScope(app);
    const findings = everyFinding.findings;

    // Assess
    for (const ack of acknowledgements(app)) {
      const answered = findings.some(
        (f) => f.rule === ack.rule && (f.path === ack.path || f.path?.startsWith(`${ack.path}/`)),
      );
      expect(answered, `${ack.rule} acknowledged at ${ack.path} answers no finding`).toBe(true);
    }
  });
});
