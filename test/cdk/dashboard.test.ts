/** The dashboard in the template: every graph reads a series that is really emitted, and the stack outputs its URL. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE, metricDimensions } from '../../functions/commons/constants.ts';
import { buildStack } from './support.ts';

const { stack, template } = buildStack();
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/**
 * A CloudFormation string value as text: Fn::Join flattened, each intrinsic replaced by a
 * placeholder such as {{Ref:AWS::Region}} or {{GetAtt:Queue.QueueName}}.
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if ('Ref' in v) return `{{Ref:${v.Ref}}}`;
  if ('Fn::GetAtt' in v) return `{{GetAtt:${(v['Fn::GetAtt'] as string[]).join('.')}}}`;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}

interface ShownMetric {
  widget: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
const body = JSON.parse(flatten(dashboards[0]?.Properties.DashboardBody)) as { widgets: Widget[] };

/** Every metric of every widget: [namespace, name, dim1, value1, ..., {options}?]. */
const shown: ShownMetric[] = body.widgets.flatMap((w) =>
  (w.properties.metrics ?? []).map((entry) => {
    const strings = entry.filter((part): part is string => typeof part === 'string');
    const [namespace, name, ...pairs] = strings;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
    return { widget: w.properties.title ?? w.type, namespace: namespace!, name: name!, dimensions };
  }),
);

/** The METRICS keys the handlers reference (functions/, constants.ts itself left out). */
function emittedKeys(): Set<string> {
  const root = fileURLToPath(new URL('../../functions/', import.meta.url));
  const sources = (readdirSync(root, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('constants.ts'))
    .map((file) => readFileSync(join(root, file), 'utf8'))
    .join('\n');
  return new Set([...sources.matchAll(/\bMETRICS\.(\w+)/g)].map((m) => m[1]!));
}

describe('dashboard', () => {
  const functions = {
    incremental: `{{Ref:${logicalId(stack.incremental)}}}`,
    fullRebuild: `{{Ref:${logicalId(stack.fullRebuild)}}}`,
    report: `{{Ref:${logicalId(stack.report)}}}`,
  };
  const queueName = `{{GetAtt:${logicalId(stack.failureQueue)}.QueueName}}`;

  it('shows only series the functions emit, with their exact dimensions', () => {
    // Why: a graph on a misspelled name or a missing dimension stays empty, and an empty graph reads as "all quiet".
    // Prepare
    const emitted = emittedKeys();
    const fifoNames = new Map<string, string>(Object.entries(METRICS).map(([key, m]) => [m.name, key]));

    // Act
    const unknown = shown.filter((m) => {
      if (m.namespace === METRICS_NAMESPACE) {
        const key = fifoNames.get(m.name);
        return (
          !key ||
          !emitted.has(key) ||
          JSON.stringify(sorted(m.dimensions)) !== JSON.stringify(sorted(metricDimensions(stack.stackName)))
        );
      }
      if (m.namespace === 'AWS/Lambda') {
        return (
          !['Errors', 'Duration'].includes(m.name) ||
          Object.keys(m.dimensions).join() !== 'FunctionName' ||
          !Object.values(functions).includes(m.dimensions.FunctionName!)
        );
      }
      if (m.namespace === 'AWS/SQS') {
        return m.name !== 'ApproximateNumberOfMessagesVisible' || m.dimensions.QueueName !== queueName;
      }
      return true;
    });

    // Assess
    expect(dashboards).toHaveLength(1);
    expect(shown.length).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });

  it('covers freshness, runs and durations per job, drift, data quality, errors per function and the failure queue', () => {
    // Why: these are what the operator checks first; leaving one out sends them to the console to build it.
    // Prepare
    const fifo = new Set(shown.filter((m) => m.namespace === METRICS_NAMESPACE).map((m) => m.name));
    const lambda = (name: string) =>
      shown
        .filter((m) => m.namespace === 'AWS/Lambda' && m.name === name)
        .map((m) => m.dimensions.FunctionName);

    // Act
    const required = [
      METRICS.freshnessLag,
      METRICS.pendingChanges,
      METRICS.incrementalRuns,
      METRICS.fullRebuildRuns,
      METRICS.fullRebuildSucceeded,
      METRICS.reportRuns,
      METRICS.incrementalDuration,
      METRICS.fullRebuildDuration,
      METRICS.driftRows,
      METRICS.driftUsd,
      METRICS.rejectedTrades,
      METRICS.unmatchedSells,
    ].map((m) => m.name);

    // Assess
    expect(required.filter((name) => !fifo.has(name))).toEqual([]);
    expect(lambda('Errors').sort()).toEqual(Object.values(functions).sort());
    // The report emits no duration of its own: Lambda's stands in for it.
    expect(lambda('Duration')).toEqual([functions.report]);
    expect(shown.some((m) => m.namespace === 'AWS/SQS' && m.dimensions.QueueName === queueName)).toBe(true);
  });

  it('shows the state of every alarm', () => {
    // Why: the status row is where a glance tells the operator which runbook section to open.
    // Prepare
    const alarmArns = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map(
      (id) => `{{GetAtt:${id}.Arn}}`,
    );

    // Act
    const statusWidgets = body.widgets.filter((w) => w.type === 'alarm');

    // Assess
    expect(statusWidgets).toHaveLength(1);
    expect([...statusWidgets[0]!.properties.alarms!].sort()).toEqual(alarmArns.sort());
  });

  it('is named for the stack and region, and its console URL is a stack output', () => {
    // Why: dashboard names are global to the account; the output is how the README's operator finds it.
    // Prepare
    const dashboardId = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;

    // Act
    const name = flatten(dashboards[0]!.Properties.DashboardName);
    const url = flatten(template.toJSON().Outputs.DashboardUrl.Value);

    // Assess
    expect(name).toBe(`${stack.stackName}-{{Ref:AWS::Region}}`);
    expect(url).toBe(
      'https://{{Ref:AWS::Region}}.console.aws.amazon.com/cloudwatch/home?region={{Ref:AWS::Region}}' +
        `#dashboards/dashboard/{{Ref:${dashboardId}}}`,
    );
  });
});

function sorted(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
