/**
 * End to end through SES: runDailyReport sends to aws-ses-v2-local, started and stopped by this
 * test on a free port. The SES client is createSesClient()'s, without settings, pointed at the
 * emulator only by the SDK's standard AWS_ENDPOINT_URL_SESV2 setting, as a deployment would
 * point it anywhere.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesLocalModule from 'aws-ses-v2-local';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { createSesClient, runDailyReport } from '../../shared/report/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { csvAllocations, FIXTURE_WINDOW_ALLOCATIONS, loadFixture, NOW } from './fixtures.ts';

type StartSesLocal = (config?: { host?: string; port?: number }) => Promise<Server>;
// A CommonJS module with exports.default: Node hands ESM the exports object, Vite the function.
const loaded = sesLocalModule as unknown as StartSesLocal | { default: StartSesLocal };
const startSesLocal: StartSesLocal = typeof loaded === 'function' ? loaded : loaded.default;

interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: { content: string; contentType: string; filename?: string; size: number }[];
}

const ENV_KEYS = [
  'AWS_ENDPOINT_URL_SESV2',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let server: Server;
let endpoint: string;
let db: TestDatabase;

beforeAll(async () => {
  server = await startSesLocal({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_SESV2 = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local-test';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-test';
  db = await createTestDatabase();
  await loadFixture(db.pool);
  await runFullRebuild(db, { version: 1 });
});

afterAll(async () => {
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
  await db?.drop();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((done, fail) => server.close((error) => (error ? fail(error) : done())));
  }
});

describe('sending the daily report', () => {
  it('delivers one email with the recipients, subject, sections and the CSV attached', async () => {
    // Why: the whole path the Lambda takes, through a real SES v2 API, with only the endpoint swapped.
    // Prepare
    const recipients = ['ops@example.com', 'trader@example.org'];
    const client = createSesClient();

    // Act
    const report = await runDailyReport(db, {
      version: 1,
      now: NOW,
      send: {
        sender: 'FIFO Ledger <reports@example.com>',
        recipients,
        subjectPrefix: '[fifo-ledger test]',
        client,
      },
    });
    const store = (await (await fetch(`${endpoint}/store`)).json()) as { emails: StoredEmail[] };

    // Assess
    const email = store.emails.find((m) => m.messageId === report.messageId);
    expect(email).toBeDefined();
    expect(email!.from).toBe('FIFO Ledger <reports@example.com>');
    expect(email!.destination.to).toEqual(recipients);
    expect(email!.subject).toBe(
      '[fifo-ledger test] WARNING 2024-03-11: realized PnL -1.37 USD in 24 h, 5 sells',
    );
    expect(email!.subject).toBe(report.subject);
    for (const section of [
      'Key metrics',
      'Daily realized PnL',
      'PnL by strategy',
      'PnL by source',
      'Per symbol',
      'Open positions at market',
      'Risk and capital',
      'Costs and break-even',
      'Holding time',
      'Near-instant roundtrips',
      'Big movers',
      'Unmatched sells',
      'FIFO health',
      'Legacy reconciliation',
    ]) {
      expect(email!.body.html).toContain(section);
      expect(email!.body.text).toContain(section.toUpperCase());
    }
    expect(email!.attachments).toHaveLength(1);
    const attachment = email!.attachments[0]!;
    expect(attachment.filename).toBe('fifo-allocations-2024-03-11.csv');
    expect(attachment.contentType).toBe('text/csv');
    const rows = parseCsv(Buffer.from(attachment.content, 'base64').toString('utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(csvAllocations(rows)).toEqual(FIXTURE_WINDOW_ALLOCATIONS);
    expect(rows.filter((r) => r.section === 'position').map((r) => r.symbol)).toEqual(['CCC-USD']);
    expect(email!.body.html).toContain('Attached: fifo-allocations-2024-03-11.csv');
  });
});
