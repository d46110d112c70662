/** REPORT_* settings: defaults, parsing and errors that name the variable. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  loadReportConfig,
  parseRate,
  parseReportSettings,
} from '../../shared/report/config.ts';

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
      settings: {
        priceTable: null,
        startingEquity: null,
        makerFeeRate: '0.003',
        takerFeeRate: '0.0055',
        roundtripSeconds: 60,
        staleMarkMinutes: 60,
      },
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

  it("reads the sections' settings: price table, starting equity, fee rates, roundtrip and stale-mark thresholds", () => {
    // Why: the bot's operator sets REPORT_PRICE_TABLE already; the rest have documented defaults.
    // Prepare
    const env = {
      REPORT_PRICE_TABLE: 'public.report_prices',
      REPORT_STARTING_EQUITY: '10000.50',
      REPORT_MAKER_FEE: '0.25%',
      REPORT_TAKER_FEE: '0.004',
      REPORT_ROUNDTRIP_SECONDS: '30',
      REPORT_STALE_MARK_MINUTES: '15',
    };

    // Act
    const { settings } = loadReportConfig(env);

    // Assess
    expect(settings).toEqual({
      priceTable: 'public.report_prices',
      startingEquity: '10000.50',
      makerFeeRate: '0.0025',
      takerFeeRate: '0.004',
      roundtripSeconds: 30,
      staleMarkMinutes: 15,
    });
    expect(
      ['0.3%', '0.55%', '0.003', '0%', '49.9%', '50%', '0.5', '1e-3', '-0.1', 'abc'].map(parseRate),
    ).toEqual(['0.003', '0.0055', '0.003', '0', '0.499', null, null, null, null, null]);
  });

  it('names each section setting at fault, by variable or by CLI option', () => {
    // Why: "must be a fee rate" is useless without saying which of six settings is wrong.
    // Prepare
    const env = {
      REPORT_PRICE_TABLE: 'prices; DROP TABLE trade_records',
      REPORT_MAKER_FEE: '60%',
      REPORT_ROUNDTRIP_SECONDS: '-1',
      REPORT_WINDOW_HOURS: '0',
    };

    // Act
    const fromEnv = () => loadReportConfig(env);
    const fromOptions = () =>
      parseReportSettings({ startingEquity: '-5', staleMarkMinutes: '0' }, (k) => `--${k}`, DEFAULT_SETTINGS);

    // Assess
    expect(fromEnv).toThrow(/REPORT_WINDOW_HOURS: must be a whole number of hours/);
    expect(fromEnv).toThrow(
      /REPORT_PRICE_TABLE: must be a table or view name .*, got "prices; DROP TABLE trade_records"/,
    );
    expect(fromEnv).toThrow(/REPORT_MAKER_FEE: must be a fee rate .*, got "60%"/);
    expect(fromEnv).toThrow(/REPORT_ROUNDTRIP_SECONDS: must be a whole number of seconds/);
    expect(fromOptions).toThrow(
      /--startingEquity: must be an amount in USD .*; --staleMarkMinutes: must be a whole number/,
    );
  });
});
