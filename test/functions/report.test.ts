/** The report handler as Lambda runs it: real PostgreSQL, Secrets Manager and SES mocked. */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import 'aws-sdk-client-mock-vitest/extend';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV, METRICS, metricDimensions } from '../../functions/commons/constants.ts';
import { handler } from '../../functions/report/index.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import { DEPLOYMENT, fakeContext, handlerEnvironment, handlerSuite, single } from './support.ts';

const DAILY = {
  scheduledTime: '2026-03-02T07:00:00Z',
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/FifoLedger-ReportSchedule',
  attempt: '1',
};

/** SES mocked and a mail configuration set, for each test; read the stub inside tests. */
function useMailEnvironment() {
  // biome-ignore lint/suspicious/noExplicitAny: the mock's generic parameters are irrelevant here
  const mail = {} as { ses: AwsStub<any, any, any> };
  beforeEach(() => {
    mail.ses = mockClient(SESv2Client);
    mail.ses.on(SendEmailCommand).resolves({ MessageId: 'ses-message-1' });
    vi.stubEnv(ENV.reportSender, 'FIFO Reports <reports@example.com>');
    vi.stubEnv(ENV.reportRecipients, 'ops@example.com, cfo@example.com');
    vi.stubEnv(ENV.reportTimeZone, 'UTC');
  });
  afterEach(() => {
    mail.ses.restore();
  });
  return mail;
}

describe('report handler, before any query', () => {
  const suite = handlerEnvironment();
  const mail = useMailEnvironment();

  it('fails on half a mail configuration', async () => {
    // Why: a sender without recipients is a mistake that must surface, not a silent "don't mail".
    // Prepare
    vi.stubEnv(ENV.reportRecipients, '');

    // Act
    const invocation = handler(DAILY, fakeContext('report'));

    // Assess
    await expect(invocation).rejects.toThrow(/REPORT_RECIPIENTS/);
    expect(mail.ses).toHaveReceivedCommandTimes(SendEmailCommand, 0);
    expect(suite.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });
});

describe('report handler', { tags: ['server'] }, () => {
  const suite = handlerSuite();
  const mail = useMailEnvironment();

  it('mails the report through SES and counts it', async () => {
    // Prepare
    await insertBotTrades(suite.db.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-03-01T10:00:00Z',
        price: '40000',
        size: '1',
        fee: '4',
      },
    ]);

    // Act
    const result = await handler(DAILY, fakeContext('report'));

    // Assess
    expect(result.messageId).toBe('ses-message-1');
    expect(mail.ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
    expect(mail.ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: 'FIFO Reports <reports@example.com>',
      Destination: { ToAddresses: ['ops@example.com', 'cfo@example.com'] },
    });
    const sent = single(suite.stdout.metrics(), METRICS.reportsSent.name);
    expect(sent.values).toEqual([1]);
    expect(sent.unit).toBe(METRICS.reportsSent.unit);
    expect(sent.dimensions).toEqual(metricDimensions(DEPLOYMENT));
    expect(suite.stdout.logs().find((l) => l.message === 'report started')).toMatchObject({
      scheduledTime: DAILY.scheduledTime,
    });
  });

  it('builds and logs the report without mailing it when no sender is configured', async () => {
    // Why: reportSender is optional in the stack's configuration.
    // Prepare
    vi.stubEnv(ENV.reportSender, '');
    vi.stubEnv(ENV.reportRecipients, '');

    // Act
    const result = await handler(DAILY, fakeContext('report'));

    // Assess
    expect(result.messageId).toBeNull();
    expect(result.subject).toMatch(/fifo-ledger/);
    expect(mail.ses).toHaveReceivedCommandTimes(SendEmailCommand, 0);
    expect(single(suite.stdout.metrics(), METRICS.reportsSent.name).values).toEqual([0]);
  });

  it("passes the sections' REPORT_* settings to the report, and fails on a bad one before any query", async () => {
    // Why: the deployed report must honour the same settings as the CLI, and a typo must name the variable.
    // Prepare
    await insertBotTrades(suite.db.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-03-01T10:00:00Z',
        price: '40000',
        size: '1',
        fee: '4',
      },
    ]);
    vi.stubEnv('REPORT_PRICE_TABLE', 'report_prices');
    vi.stubEnv('REPORT_STARTING_EQUITY', '50000');

    // Act
    await handler(DAILY, fakeContext('report'));
    const sent = mail.ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    vi.stubEnv('REPORT_MAKER_FEE', 'cheap');
    const invalid = handler(DAILY, fakeContext('report'));

    // Assess
    const html = sent.Content?.Simple?.Body?.Html?.Data ?? '';
    expect(html).toContain('<b>Needs:</b> a table or view report_prices with columns symbol');
    expect(html).toContain('from the REPORT_STARTING_EQUITY setting');
    await expect(invalid).rejects.toThrow(/REPORT_MAKER_FEE: must be a fee rate/);
    expect(mail.ses).toHaveReceivedCommandTimes(SendEmailCommand, 1);
  });
});
