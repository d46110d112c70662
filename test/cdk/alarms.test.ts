/** The alarm path end to end in the template: CloudWatch may publish to the topic, and every alarm links its runbook. */
import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALARM_RUNBOOK } from '../../lib/index.ts';
import { buildStack, EXISTING_DATABASE_CONTEXT, NEW_DATABASE_CONTEXT } from './support.ts';

const { stack, template } = buildStack();
const topicRef = { Ref: stack.getLogicalId(stack.alarms.topic.node.defaultChild as CfnElement) };

type Statement = Record<string, unknown>;

/** The statements of every topic policy attached to the alarm topic. */
function topicStatements(): Statement[] {
  const policies = template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [topicRef] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    anchors.add(
      heading[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

/** The text of the runbook section under the heading whose anchor is `anchor`, up to the next heading of its level. */
function section(markdown: string, anchor: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^## /.test(l) && headingAnchors(l).has(anchor));
  if (start === -1) return '';
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

const runbook = readFileSync(new URL(`../../${ALARM_RUNBOOK}`, import.meta.url), 'utf8');
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
  (a) => a.Properties as { AlarmName: string; AlarmDescription: string },
);

describe('alarm topic policy', () => {
  it('lets CloudWatch of this account publish, beside the TLS-only deny', () => {
    // Why: enforceSSL's policy replaces the SNS default one; without an Allow for CloudWatch every
    // alarm action fails with "no resource-based policy allows the SNS:Publish action" and nobody is told.
    // Prepare
    const statements = topicStatements();

    // Act
    const allows = statements.filter((s) => s.Effect === 'Allow');
    const denies = statements.filter((s) => s.Effect === 'Deny');

    // Assess
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topicRef,
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    expect(denies).toEqual([
      expect.objectContaining({
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topicRef,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('is the topic every alarm notifies, on ALARM and on OK', () => {
    // Why: the Allow is scoped to one topic; an alarm wired to another topic would fail to publish.
    // Prepare
    const resources = Object.values(template.findResources('AWS::CloudWatch::Alarm'));

    // Act
    const actions = resources.map((a) => [a.Properties.AlarmActions, a.Properties.OKActions]);

    // Assess
    expect(resources.length).toBe(8);
    for (const [onAlarm, onOk] of actions) {
      expect(onAlarm).toEqual([topicRef]);
      expect(onOk).toEqual([topicRef]);
    }
  });

  it.each([
    ['existing database', EXISTING_DATABASE_CONTEXT],
    ['schedules off, no alarm email', { schedulesEnabled: 'false' }],
  ])('keeps the CloudWatch allow in every configuration: %s', (_name, context) => {
    // Why: the policy must not depend on the database mode, the rollback switch or a subscription.
    // Prepare
    const { template: other } = buildStack(context);

    // Act (arrayWith keeps order: the deny is the topic's first statement)
    const count = Object.keys(
      other.findResources('AWS::SNS::TopicPolicy', {
        Properties: {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
              Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
            ]),
          },
        },
      }),
    ).length;

    // Assess
    expect(count).toBe(1);
  });
});

describe('alarm runbook', () => {
  it('links every alarm to a section of docs/alarms.md that exists', () => {
    // Why: the alarm email quotes the description; its link is the operator's first step at 3 a.m.
    // Prepare
    const anchors = headingAnchors(runbook);

    // Act
    const links = alarms.map((a) => ({
      alarm: a.AlarmName,
      anchor: new RegExp(`${ALARM_RUNBOOK.replace('.', '\\.')}#([a-z0-9-]+)`).exec(a.AlarmDescription)?.[1],
    }));

    // Assess
    expect(links.length).toBe(8);
    for (const link of links) {
      expect(link.anchor, `${link.alarm} has no runbook link`).toBeDefined();
      expect(anchors.has(link.anchor!), `${link.alarm} links #${link.anchor}, not a heading`).toBe(true);
    }
    expect(new Set(links.map((l) => l.anchor)).size).toBe(links.length);
  });

  it('gives each linked section its alarm name, meaning, first command, causes and fix check', () => {
    // Why: a section that exists but skips a step leaves the operator guessing; the names must match the template.
    // Prepare
    const anchorOf = (description: string) => /#([a-z0-9-]+)/.exec(description)![1]!;

    // Act
    const sections = alarms.map((a) => ({
      name: a.AlarmName.replace(stack.stackName, '<stackName>'),
      text: section(runbook, anchorOf(a.AlarmDescription)),
    }));

    // Assess
    for (const { name, text } of sections) {
      expect(text, name).toContain(`**Alarm:** \`${name}\``);
      for (const part of [
        '**What it means.**',
        '**First command.**',
        '**Likely causes.**',
        '**Fixed when.**',
      ]) {
        expect(text, `${name}: ${part}`).toContain(part);
      }
    }
  });

  it('keeps every description within the CloudWatch limit', () => {
    // Why: PutMetricAlarm rejects an AlarmDescription over 1024 characters, which would fail the deploy.
    // Prepare
    const { template: custom } = buildStack({ ...NEW_DATABASE_CONTEXT, driftRowsThreshold: '1000000' });

    // Act
    const lengths = Object.values(custom.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a.Properties.AlarmDescription as string).length,
    );

    // Assess
    for (const length of lengths) expect(length).toBeLessThanOrEqual(1024);
  });
});
