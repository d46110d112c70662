/**
 * Every operator error is one clear line: it names the file, row, setting or
 * version, says what to do, and never shows a stack trace or a driver's raw message.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sesLocalModule from 'aws-ses-v2-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { generateTrades, type SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { fifo, oneLineError, repo } from './support.ts';

let work: string;
const file = (name: string) => join(work, name);
const HEADER = 'order_id,symbol,side,order_time,price,size,fee';
const TRADES: SampleTrade[] = [
  {
    order_id: 'b1',
    symbol: 'BTC-USD',
    side: 'buy',
    order_time: '2026-01-01T09:00:00Z',
    price: '40000',
    size: '1',
    fee: '4',
  },
  {
    order_id: 's1',
    symbol: 'BTC-USD',
    side: 'sell',
    order_time: '2026-01-03T09:00:00Z',
    price: '42000',
    size: '1.5',
    fee: '6',
  },
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fifo-errors-'));
  await writeFile(file('trades.json'), JSON.stringify({ trades: TRADES }));
  await writeFile(
    file('trades.csv'),
    `${HEADER}\n${TRADES.map((t) => Object.values(t).join(',')).join('\n')}\n`,
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('fifo replay: unusable input', () => {
  it.each([
    ['empty.json', '', /empty\.json is empty: expected \{"trades": \[\.\.\.\]\}/],
    ['empty.csv', '', /empty\.csv is empty: expected a CSV header and trades/],
    ['blank.csv', '\n\n', /blank\.csv is empty/],
    ['header.csv', `${HEADER}\n`, /header\.csv has a header but no trades/],
    ['none.json', '{"trades": []}', /none\.json holds no trades/],
  ])('%s is an error, not zero trades', async (name, content, message) => {
    // Why: an empty export replayed "successfully" reads as a history with no PnL.
    // Prepare
    await writeFile(file(name), content);

    // Act
    const run = await fifo(['replay', file(name)]);

    // Assess
    expect(oneLineError(run)).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('names a missing file and a directory in one line, no ENOENT or EISDIR', async () => {
    // Why: a raw errno is not an instruction.
    // Prepare
    await mkdir(file('folder.json'), { recursive: true });

    // Act
    const [missing, folder] = await Promise.all([
      fifo(['replay', file('missing.csv')]),
      fifo(['replay', file('folder.json')]),
    ]);

    // Assess
    expect(oneLineError(missing)).toBe(`fifo: cannot read ${file('missing.csv')}: no such file`);
    expect(oneLineError(folder)).toBe(
      `fifo: cannot read ${file('folder.json')}: it is a directory, not a .json or .csv file`,
    );
  });

  it('accepts a byte-order mark in JSON and in CSV', async () => {
    // Why: spreadsheets and Windows tools write one; it once failed with "Unexpected token".
    // Prepare
    await writeFile(file('bom.json'), `\uFEFF${JSON.stringify({ trades: TRADES })}`);
    await writeFile(
      file('bom.csv'),
      `\uFEFF${HEADER}\n${TRADES.map((t) => Object.values(t).join(',')).join('\n')}\n`,
    );

    // Act
    const [plain, json, csv] = await Promise.all([
      fifo(['replay', file('trades.json')]),
      fifo(['replay', file('bom.json')]),
      fifo(['replay', file('bom.csv')]),
    ]);

    // Assess
    expect(plain.code, plain.stderr).toBe(0);
    expect(json).toEqual(plain);
    expect(csv).toEqual(plain);
  });

  it("names a bad CSV row by the file's own line, blank lines counted", async () => {
    // Why: "line 3" for a row on line 5 sends the operator to the wrong row.
    // Prepare
    const content = `${HEADER}\n\nb1,BTC-USD,buy,2026-01-01,1,1,\n\nb2,BTC-USD,buy,never,1,1,\n`;
    await writeFile(file('blank-lines.csv'), content);

    // Act
    const run = await fifo(['replay', file('blank-lines.csv')]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[1]).toMatch(/^line 5 \(order_id b2\): order_time /);
  });

  it('tells a numeric order_id to be quoted, not to be a decimal string', async () => {
    // Why: an order id is text; "must be a decimal string" is the message for amounts.
    // Prepare
    await writeFile(file('numeric-id.json'), JSON.stringify({ trades: [{ ...TRADES[0], order_id: 1234 }] }));

    // Act
    const run = await fifo(['replay', file('numeric-id.json')]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'trade 1: order_id must be text, not the JSON number 1234: write it in quotes, "1234"',
    );
  });

  it('ends quietly when the reader closes the pipe (| head)', async () => {
    // Why: `fifo replay FILE --format csv | head` once ended with an EPIPE stack trace.
    // Prepare
    const many = [...generateTrades({ trades: 20_000, symbols: 3, seed: 1 })];
    await writeFile(
      file('many.csv'),
      `${HEADER}\n${many.map((t) => [t.order_id, t.symbol, t.side, t.order_time, t.price, t.size, t.fee].join(',')).join('\n')}\n`,
    );

    // Act
    const child = spawn('node', ['bin/fifo.js', 'replay', file('many.csv'), '--format', 'csv'], {
      cwd: repo,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((done) => child.on('close', done));

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('settings, checked before anything connects', () => {
  it.each([
    [
      { DATABASE_URL: 'not a url' },
      ['health'],
      /^fifo: DATABASE_URL is not a PostgreSQL URL: expected postgres:\/\//,
    ],
    [
      { DATABASE_URL: 'postgres://bot:s3cr3t-pw@bad host/db' },
      ['health'],
      /^fifo: DATABASE_URL is not a valid URL: .*percent-encoded/,
    ],
    [{}, ['health', '--version', ''], /^fifo: --version is empty: give a version/],
    [
      {},
      ['health', '--version', '99999999999'],
      /^fifo: --version must be a whole number from 1 to 2,147,483,647/,
    ],
    [{}, ['explain', 'x', '--version', '0'], /^fifo: --version must be a whole number from 1 to/],
    [{ FIFO_ALLOCATION_VERSION: '' }, ['health'], /^fifo: FIFO_ALLOCATION_VERSION is set but empty/],
    [{}, ['compare', '--versions', '2,99999999999'], /^fifo: --versions must be a whole number from 1 to/],
  ])('%o %o is one line', async (env, args, message) => {
    // Why: a typo must name the setting, hide the password and say what is expected.
    // Act
    const run = await fifo(args, { ...env, FIFO_EMBEDDED_DIR: file('never-created') });

    // Assess
    const line = oneLineError(run);
    expect(line).toMatch(message);
    expect(line).not.toContain('s3cr3t-pw');
    expect(line).not.toMatch(/ENOTFOUND|getaddrinfo/);
  });

  it('says plainly that the server wants a password DATABASE_URL lacks', async () => {
    // Why: "SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string" says nothing to an operator.
    // Prepare: a server that asks for SCRAM-SHA-256, as RDS does
    const auth = (code: number, body: Buffer) => {
      const message = Buffer.alloc(9 + body.length);
      message.write('R', 0);
      message.writeInt32BE(8 + body.length, 1);
      message.writeInt32BE(code, 5);
      body.copy(message, 9);
      return message;
    };
    const server: Server = createServer((socket) => {
      let messages = 0;
      socket.on('data', () => {
        messages++;
        // The startup message: AuthenticationSASL; the client's first message: the server's first.
        if (messages === 1) socket.write(auth(10, Buffer.from('SCRAM-SHA-256\0\0')));
        else if (messages === 2) socket.write(auth(11, Buffer.from('r=abc,s=c2FsdA==,i=4096')));
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;

    try {
      // Act
      const run = await fifo(['health'], {
        DATABASE_URL: `postgres://bot@127.0.0.1:${port}/db`,
        PGPASSWORD: undefined,
      });

      // Assess
      expect(oneLineError(run)).toBe(
        `fifo: cannot connect to postgres://bot@127.0.0.1:${port}/db: the server asks for a password and ` +
          'DATABASE_URL has none; put it in the URL (postgres://USER:PASSWORD@HOST/DATABASE) or set PGPASSWORD',
      );
    } finally {
      server.close();
    }
  });
});

describe('commands on a database', { tags: 'server' }, () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    const start = new Date(Date.now() - 6 * 3_600_000).toISOString();
    await insertTrades(db.pool, [...generateTrades({ trades: 200, symbols: 2, seed: 3, start })]);
    await runFullRebuild(db, { version: 1 });
    env = { DATABASE_URL: db.url };
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('compare of a version never built is an error naming the versions that exist', async () => {
    // Why: comparing against nothing once exited 0 and reported every sell as a difference.
    // Act
    const run = await fifo(['compare', '--versions', '1,9'], env);

    // Assess
    expect(oneLineError(run)).toMatch(
      /^fifo: version 9 was never built in .*; versions that exist: 1 \(build it with: fifo full --version 9\)$/,
    );
  });

  it('report --out refuses a file, and a place where nothing can be created, before any work', async () => {
    // Why: an existing file once crashed with a stack trace, and /proc/nope hung at full CPU.
    // Prepare
    await writeFile(file('a-file'), 'x');

    // Act
    const [onFile, inProc] = await Promise.all([
      fifo(['report', '--out', file('a-file')], env),
      fifo(['report', '--out', '/proc/nope/deeper'], env),
    ]);

    // Assess
    expect(oneLineError(onFile)).toBe(
      `fifo: --out ${file('a-file')} is a file: --out takes a directory, where report.html, report.txt and report.csv are written`,
    );
    expect(oneLineError(inProc)).toMatch(
      /^fifo: --out \/proc\/nope\/deeper: cannot create the directory \/proc\/nope \(/,
    );
  });

  it('report --out creates the directory and says so without the word WARNING', async () => {
    // Why: "WARNING: report written to ..." read as a failure when the verdict was WARNING.
    // Prepare
    const out = file('reports/today');

    // Act
    const run = await fifo(['report', '--out', out], env);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^report written to ${out}/report\\.html, .* \\(verdict (OK|WARNING|STALE)\\)\\n$`),
    );
  });

  it('report --send prints no AWS SDK warning about the Node.js version', async () => {
    // Why: the SDK's note on Node 20 support reached the operator on every send.
    // Prepare
    type Start = (o: { host: string; port: number }) => Promise<Server>;
    const loaded = sesLocalModule as unknown as Start | { default: Start };
    const start: Start = typeof loaded === 'function' ? loaded : loaded.default;
    const ses = await start({ host: '127.0.0.1', port: 0 });
    const endpoint = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;

    try {
      // Act
      const run = await fifo(['report', '--send'], {
        ...env,
        REPORT_SENDER: 'reports@example.com',
        REPORT_RECIPIENTS: 'ops@example.com',
        AWS_ENDPOINT_URL_SESV2: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local-test',
        AWS_SECRET_ACCESS_KEY: 'local-test',
      });

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^sent ".*" to ops@example\.com \(SES message id /);
      expect(run.stderr).not.toMatch(/Warning|NodeVersionSupport/i);
    } finally {
      ses.close();
    }
  });
});
