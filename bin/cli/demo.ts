/**
 * `fifo demo` (npm start): the main job end to end on a generated sample (demo-run.ts, loaded
 * when the command runs). With no DATABASE_URL it runs on an in-memory embedded PostgreSQL.
 */
import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { optionWithDefault, withEnvironment } from './options.ts';

export function registerDemoCommand(program: Command): void {
  withEnvironment(
    program
      .command('demo')
      .description(
        'the main job end to end on a generated sample (npm start); embedded database unless DATABASE_URL',
      )
      .addOption(optionWithDefault('--trades <N>', 'sample size', '3000'))
      .addOption(optionWithDefault('--symbols <N>', 'number of symbols', '4'))
      .addOption(optionWithDefault('--seed <N>', 'random seed', '42'))
      .action(async (opts: { trades?: string; symbols?: string; seed?: string }) => {
        const number = (name: string, value: string, min: number) => {
          const n = Number(value);
          if (!Number.isInteger(n) || n < min)
            throw new CliError(`--${name} must be a whole number >= ${min}, got "${value}"`);
          return n;
        };
        const options = {
          trades: number('trades', opts.trades ?? '3000', 300),
          symbols: number('symbols', opts.symbols ?? '4', 1),
          seed: number('seed', opts.seed ?? '42', 0),
        };
        const { runDemo } = await import('./demo-run.ts');
        await runDemo(options, (line) => process.stdout.write(`${line}\n`));
      }),
    ['DATABASE_URL', 'FIFO_ALLOCATION_VERSION', 'FIFO_DEBUG'],
  );
}
