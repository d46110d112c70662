/** REPORT_* settings: defaults, parsing and errors that name the variable. */
import { describe, expect, it } from 'vitest';
import { loadReportConfig } from '../../shared/report/config.ts';

describe('loadReportConfig', () => {
  it('has the documented defaults and splits recipients on commas', () => {
    // Why: the bot's existing REPORT_* variables must work as they are.
    // Prepare
    const env = {
      REPORT_SENDER: 'FIFO <ops@example.com>',
      REPORT_RECIPIENTS: ' a@example.com, b@example.org ,',
    };

    // Act
    const config = loadReportConfig(env);

    // Assess
    expect(config).toEqual({
      sender: 'FIFO <ops@example.com>',
      recipients: ['a@example.com', 'b@example.org'],
      subjectPrefix: '[fifo-ledger]',
      timeZone: 'UTC',
      windowHours: 24,
    });
  });

  it('names each variable at fault', () => {
    // Why: a misconfigured Lambda must say what to fix, not fail somewhere in SES.
    // Prepare
    const env = {
      REPORT_RECIPIENTS: 'a@example.com,not-an-address',
      REPORT_TIMEZONE: 'Mars/Olympus',
      REPORT_WINDOW_HOURS: '1.5',
    };

    // Act
    const attempt = () => loadReportConfig(env);

    // Assess
    expect(attempt).toThrow(/REPORT_RECIPIENTS: "not-an-address" is not an email address/);
    expect(attempt).toThrow(/REPORT_TIMEZONE: must be an IANA time zone/);
    expect(attempt).toThrow(/REPORT_WINDOW_HOURS: must be a whole number of hours/);
  });

  it('requires a sender and recipients only to send', () => {
    // Why: building and writing the report must work with no mail settings at all.
    // Prepare
    const env = { REPORT_TIMEZONE: 'Europe/Berlin' };

    // Act
    const built = loadReportConfig(env);
    const attempt = () => loadReportConfig(env, { requireSending: true });

    // Assess
    expect(built).toMatchObject({ sender: null, recipients: [], timeZone: 'Europe/Berlin' });
    expect(attempt).toThrow('sending the report needs REPORT_SENDER and REPORT_RECIPIENTS');
  });
});
