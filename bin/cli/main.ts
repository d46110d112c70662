/** The operator CLI. Each command is a thin wrapper over shared/. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseScaled } from '../../shared/fifo/index.ts';
import { ConfigError } from '../../shared/jobs/index.ts';
import { registerDemoCommand } from './demo.ts';
import { CliError } from './errors.ts';
import { registerJobCommands } from './jobs.ts';
import { registerLegacyCommands } from './legacy.ts';
import { replay } from './replay.ts';
import { registerReportCommand } from './report.ts';

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
  .showHelpAfterError('(run with --help for usage)');

program
  .command('replay')
  .description('compute FIFO allocations for a .json or .csv file of trades, in memory (no database)')
  .argument(
    '<file>',
    'a .json file {"trades":[...]} or a .csv file with header order_id,symbol,side,order_time,price,size,fee',
  )
  .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
  .addOption(
    new Option('--on-unmatched <mode>', 'a sell larger than the open lots: one unmatched row, or an error')
      .choices(['row', 'error'])
      .default('row'),
  )
  .addOption(
    new Option(
      '--dust <SYMBOL=AMOUNT>',
      'write off unmatched remainders smaller than AMOUNT for SYMBOL (repeatable)',
    )
      .argParser(collectDust)
      .default(new Map<string, bigint>(), 'none'),
  )
  .action(async (file: string, options) => {
    process.stdout.write(await replay(file, options));
  });

registerJobCommands(program);
registerDemoCommand(program);
registerReportCommand(program);
registerLegacyCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CliError || error instanceof ConfigError) {
    process.stderr.write(`fifo: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
