/**
 * fifo_computation_log (migrations/0002, 0008): one row per run, in a table the bot's FIFO
 * script shares. shared/db/run-log.ts writes it. See ./spec.ts.
 */
import { type ColumnSpec, MIGRATIONS, type TableSpec } from './spec.ts';

const RUNNING = "while the run is 'running'";
const COUNT = { min: 'nonnegative', when: '0 when there was nothing to count' } as const;

/**
 * A counter the run adds up and writes when it ends or commits a batch; `added`: by ADD
 * COLUMN IF NOT EXISTS, `zero`: with DEFAULT 0.
 */
const counter = (name: string, added = false, zero = true): ColumnSpec => ({
  name,
  type: 'integer',
  kind: 'count',
  nullable: true,
  ...(zero ? { default: '0' } : {}),
  ...(added ? { addedIfMissing: true } : {}),
  sign: COUNT,
});

export const COMPUTATION_LOG = {
  name: 'fifo_computation_log',
  columns: [
    {
      name: 'id',
      type: 'bigint',
      kind: 'integer',
      nullable: false,
      default: "nextval('fifo_computation_log_id_seq'::regclass)",
      needsDefault: 'fifo-ledger never writes it',
    },
    { name: 'symbol', type: 'character varying', nullable: true },
    { name: 'allocation_version', type: 'integer', kind: 'integer', nullable: true, insert: 'always' },
    { name: 'allocation_batch_id', type: 'uuid', kind: 'uuid', nullable: true, insert: 'always' },
    {
      name: 'computation_start',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: false,
      default: 'now()',
      insert: 'always',
    },
    {
      name: 'computation_end',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: RUNNING,
    },
    {
      name: 'computation_duration_ms',
      type: 'bigint',
      kind: 'count',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: RUNNING,
      sign: COUNT,
    },
    {
      name: 'status',
      type: 'character varying',
      kind: 'text',
      nullable: false,
      insert: 'always',
      values: ['running', 'completed', 'failed', 'skipped'],
    },
    counter('buys_processed'),
    counter('sells_processed'),
    counter('allocations_created'),
    {
      name: 'error_message',
      type: 'text',
      kind: 'text',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on every run that did not fail',
    },
    { name: 'symbols_processed', type: 'integer', kind: 'symbols', nullable: true, default: '0' },
    {
      name: 'total_pnl_computed',
      type: 'numeric',
      kind: 'usd',
      nullable: true,
      sign: { min: 'any', when: 'negative on a loss' },
    },
    {
      name: 'computation_mode',
      type: 'character varying',
      kind: 'text',
      nullable: true,
      insert: 'always',
      values: ['full', 'incremental'],
    },
    { name: 'triggered_by', type: 'character varying', kind: 'text', nullable: true, insert: 'always' },
    { name: 'created_at', type: 'timestamp with time zone', nullable: false, default: 'now()' },
    counter('allocations_removed', true),
    counter('drift_rows_added', true, false),
    counter('drift_rows_removed', true, false),
    counter('drift_rows_changed', true, false),
    {
      name: 'drift_usd',
      type: 'numeric',
      kind: 'usd',
      nullable: true,
      addedIfMissing: true,
      sign: { min: 'any' },
    },
    counter('trades_rejected', true),
    counter('symbols_replayed', true),
    counter('changes_consumed', true),
    {
      name: 'dry_run',
      type: 'boolean',
      kind: 'boolean',
      nullable: false,
      default: 'false',
      addedIfMissing: true,
      insert: 'always',
    },
    { name: 'details', type: 'jsonb', kind: 'jsonb', nullable: true, addedIfMissing: true },
    {
      name: 'fifo_ledger_run',
      type: 'boolean',
      kind: 'boolean',
      nullable: false,
      default: 'false',
      addedIfMissing: true,
      migration: MIGRATIONS.botCoexistence,
      insert: 'always',
      needsDefault:
        "the bot's FIFO script logs its runs without it, and they must not count as fifo-ledger's",
    },
  ],
} as const satisfies TableSpec;
