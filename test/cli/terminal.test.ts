/**
 * The CLI never prints terminal escape sequences from the data: an order id like "s1\x1b[2J" would clear the operator's screen, and a bidi
 * override could reverse what a line appears to say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalSafe } from '../../bin/cli/terminal.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { runCli } from '../legacy/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades } from '../support/fixtures.ts';

describe('terminalSafe', () => {
  it('shows control characters and bidi overrides as escapes, and keeps tabs and newlines', () => {
    // Why: these are the characters a terminal acts on instead of printing.
    // Prepare / Act / Assess
    expect(terminalSafe('a\x1b[31mb\u009bc\u202ed\r\n\te')).toBe('a\\x1b[31mb\\x9bc\\u{202e}d\\x0d\n\te');
    expect(terminalSafe('40%\r', true)).toBe('40%\r');
    expect(terminalSafe('plain text, é and 😀')).toBe('plain text, é and 😀');
  });
});

describe('the CLI over hostile data', { tags: 'server' }, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await insertBotTrades(db.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD\x1b]0;pwned\x07',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '1',
        size: '1',
      },
      {
        order_id: 's1\x1b[2J',
        symbol: 'BTC-USD\x1b]0;pwned\x07',
        side: 'sell',
        order_time: '2026-01-02T00:00:00Z',
        price: '2',
        size: '1',
      },
    ]);
    await runFullRebuild(db, { version: 1 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('explain prints the ids and the symbol with their escapes shown', async () => {
    // Why: explain is what the operator runs on a suspicious sell.
    // Prepare / Act
    const run = await runCli(db.url, ['explain', 's1\x1b[2J']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\x1b');
    expect(run.stdout).not.toContain('\x07');
    expect(run.stdout).toContain('s1\\x1b[2J');
  });
});
