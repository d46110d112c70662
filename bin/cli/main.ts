/**
 * The operator CLI. Each command is a thin wrapper over shared/, whose code a command loads when
 * it runs (`await import(...)`): a start loads only commander and the command definitions
 * (bin/build.mjs bundles them; `fifo --help` stays fast).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { redactSecrets } from '../../shared/db/pool.ts';
import { parseScaled } from '../../shared/fifo/decimal.ts';
import { ConfigError } from '../../shared/jobs/context.ts';
import { registerDemoCommand } from './demo.ts';
import { CliError } from './errors.ts';
import { registerJobCommands } from './jobs.ts';
import { registerLegacyCommands } from './legacy.ts';
import { ALL_ENVIRONMENT, helpConfiguration, withEnvironment } from './options.ts';
import { registerReportCommand } from './report.ts';
import { registerTaxCommand } from './tax.ts';
import { guardTerminalOutput } from './terminal.ts';

function collectDust(value: string, previous: Map<string, bigint>): Map<string, bigint> {
  const at = value.lastIndexOf('=');
  const symbol = at > 0 ? value.slice(0, at).trim() : '';
  const amount = at > 0 ? value.slice(at + 1).trim() : '';
  if (!symbol || !amount) throw new InvalidArgumentError(`expected SYMBOL=AMOUNT, got "${value}"`);
  let threshold: bigint;
  try {
    threshold = parseScaled(amount);
  } catch (error) {
    throw new InvalidArgumentError(`${symbol}: ${(error as Error).message}`);
  }
  if (threshold < 0n) throw new InvalidArgumentError(`${symbol}: the dust threshold must not be negative`);
  return new Map(previous).set(symbol, threshold);
}

const program = new Command('fifo')
  .description('Exact FIFO cost-basis allocations and realized PnL from trade records')
  .version(packageJson.version, '-V, --version', 'print the version of fifo-ledger')
  // Program options before the command only: `fifo full --version 2` is the allocation version.
  .enablePositionalOptions()
  .configureHelp(helpConfiguration)
  .showHelpAfterError('(run with --help for usage)');
withEnvironment(program, ALL_ENVIRONMENT);

withEnvironment(
  program
    .command('replay')
    .description(
      'compute FIFO allocations for a .json or .csv file of trades, streaming (no database); ' +
        'the output starts once every row is checked',
    )
    .argument(
      '<file>',
      'a .json file {"trades":[...]} or a .csv file with header order_id,symbol,side,order_time,price,size,fee',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output: json (allocations, lots, summary), csv or ndjson (allocations, one per line)',
      )
        .choices(['json', 'csv', 'ndjson'])
        .default('json'),
    )
    .addOption(
      new Option('--on-unmatched <mode>', 'a sell larger than the open lots: one unmatched row, or an error')
        .choices(['row', 'error'])
        .default('row'),
    )
    .addOption(
      new Option(
        '--dust <SYMBOL=AMOUNT>',
        'write off unmatched remainders smaller than AMOUNT for SYMBOL, AMOUNT in units of the asset ' +
          '(BTC-USD=0.0001 is 0.0001 BTC, not USD); each one is reported on stderr (repeatable)',
      )
        .argParser(collectDust)
        .default(new Map<string, bigint>(), 'none'),
    ),
  ['FIFO_DEBUG'],
).action(async (file: string, options) => {
  const { replay } = await import('./replay.ts');
  await replay(file, options);
});

registerJobCommands(program);
registerDemoCommand(program);
registerReportCommand(program);
registerLegacyCommands(program);
registerTaxCommand(program);

/**
 * Every failure ends as one line on stderr and exit 1, never a stack trace (FIFO_DEBUG=1 adds
 * it). Errors meant for the operator are printed as they are; a database error that says the
 * schema is not what fifo-ledger expects gets the command that finds out why.
 */
function explain(error: unknown): string {
  // SchemaNotReadyError by name: its module loads node-pg-migrate, which a start must not.
  if (
    error instanceof CliError ||
    error instanceof ConfigError ||
    (error instanceof Error && error.name === 'SchemaNotReadyError')
  ) {
    return error.message;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  if (code === '23505' && typeof constraint === 'string' && /fifo_allocations/.test(constraint)) {
    return (
      `${message}: another program wrote allocations of this version while fifo-ledger did (the bot's own FIFO ` +
      `cron on a version taken over?); switch it off, then run fifo full for the version (docs/migration.md)`
    );
  }
  if (code === '42P01' || code === '42703' || code === '42883') {
    return `${message}: the database schema is not what this fifo-ledger expects; run: fifo adopt check`;
  }
  return message;
}

/** A reader that went away (`fifo ... | head`): nothing more to say, and no one to say it to. */
const closedPipe = (error: unknown) => (error as { code?: unknown } | null)?.code === 'EPIPE';

function fail(error: unknown): void {
  if (closedPipe(error)) process.exit();
  // A driver's or Node's message may quote the connection string or its password.
  const safe = (text: string) => redactSecrets(text, process.env.DATABASE_URL);
  process.stderr.write(`fifo: ${safe(explain(error))}\n`);
  if (process.env.FIFO_DEBUG === '1' && error instanceof Error && error.stack) {
    process.stderr.write(`${safe(error.stack)}\n`);
  }
  process.exitCode = 1;
}

guardTerminalOutput();

// `fifo replay FILE --format csv | head`: stop quietly when the reader closes the pipe, keeping
// the exit code the command has set so far (health's verdict).
process.stdout.on('error', (error) => {
  if (closedPipe(error)) process.exit();
  fail(error);
});

// A stream that fails after its command gave up on it (a COPY on a dying connection) must not
// crash the process with a stack trace either.
process.on('uncaughtException', (error) => {
  fail(error);
  process.exit(1);
});

try {
  await program.parseAsync();
} catch (error) {
  fail(error);
  // The command has failed and said so; nothing it left open (a connection a server keeps
  // waiting on a password, say) may keep the process alive. Its own cleanup has run.
  process.exit();
}
