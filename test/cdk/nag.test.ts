/** cdk-nag AwsSolutions (v3 API): no finding left unacknowledged, and every acknowledgement earns its place. */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
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

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.entries(CONFIGURATIONS))('reports no unacknowledged finding: %s', (_name, context) => {
    // Why: the bar is zero unacknowledged findings, in every database mode and switch position.
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
    const unfiltered = new AwsSolutionsChecks();
    // Report every finding as if nothing were acknowledged.
    (unfiltered as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;

    // Act
    const findings = unfiltered
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath })),
      );

    // Assess
    for (const ack of acknowledgements(app)) {
      const answered = findings.some(
        (f) => f.rule === ack.rule && (f.path === ack.path || f.path?.startsWith(`${ack.path}/`)),
      );
      expect(answered, `${ack.rule} acknowledged at ${ack.path} answers no finding`).toBe(true);
    }
  });
});
