/**
 * fifo-ledger's bookkeeping tables (migrations/0002, 0003, 0004, 0008, 0010): progress,
 * versions, rejections, captured changes, the legacy archive, mirror writes and the
 * partitioned rebuild's runs, partitions and symbol locks. See ./spec.ts.
 */
import type { TableSpec } from './spec.ts';

const COUNT = { min: 'nonnegative', when: '0 when there was nothing to count' } as const;

/** Columns several of these tables have alike. */
const VERSION = {
  name: 'allocation_version',
  type: 'integer',
  kind: 'integer',
  nullable: false,
  insert: 'always',
} as const;
const SYMBOL = {
  name: 'symbol',
  type: 'character varying',
  kind: 'text',
  nullable: false,
  insert: 'always',
} as const;
const ORDER_ID = {
  name: 'order_id',
  type: 'character varying',
  kind: 'text',
  nullable: false,
  insert: 'always',
} as const;
const RECORDED_AT = {
  name: 'recorded_at',
  type: 'timestamp with time zone',
  kind: 'time',
  nullable: false,
  default: 'clock_timestamp()',
} as const;

export const SYMBOL_PROGRESS = {
  name: 'fifo_symbol_progress',
  columns: [
    VERSION,
    SYMBOL,
    {
      name: 'last_order_time',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: false,
      insert: 'always',
    },
    {
      name: 'last_side',
      type: 'character varying',
      kind: 'text',
      nullable: false,
      insert: 'always',
      values: ['buy', 'sell'],
    },
    { name: 'last_order_id', type: 'character varying', kind: 'text', nullable: false, insert: 'always' },
    { name: 'updated_at', type: 'timestamp with time zone', kind: 'time', nullable: false, default: 'now()' },
  ],
} as const satisfies TableSpec;

export const VERSIONS = {
  name: 'fifo_versions',
  columns: [
    VERSION,
    {
      name: 'capture_changes',
      type: 'boolean',
      kind: 'boolean',
      nullable: false,
      default: 'true',
      needsDefault: 'a version is registered without it and must have its changes captured',
    },
    { name: 'created_at', type: 'timestamp with time zone', kind: 'time', nullable: false, default: 'now()' },
    { name: 'last_full_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
  ],
} as const satisfies TableSpec;

export const REJECTED_TRADES = {
  name: 'fifo_rejected_trades',
  columns: [
    ORDER_ID,
    { name: 'symbol', type: 'character varying', kind: 'text', nullable: true, insert: 'always' },
    { name: 'reason', type: 'text', kind: 'text', nullable: false, insert: 'always' },
    {
      name: 'first_seen_at',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: false,
      default: 'now()',
    },
    {
      name: 'last_seen_at',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: false,
      default: 'now()',
    },
  ],
} as const satisfies TableSpec;

export const TRADE_CHANGES = {
  name: 'fifo_trade_changes',
  columns: [
    {
      name: 'change_id',
      type: 'bigint',
      kind: 'integer',
      nullable: false,
      default: "nextval('fifo_trade_changes_change_id_seq'::regclass)",
      needsDefault: 'fifo-ledger never writes it',
    },
    VERSION,
    SYMBOL,
    { name: 'order_time', type: 'timestamp with time zone', kind: 'time', nullable: false, insert: 'always' },
    ORDER_ID,
    RECORDED_AT,
  ],
} as const satisfies TableSpec;

export const LEGACY_PNL_ARCHIVE = {
  name: 'fifo_legacy_pnl_archive',
  columns: [
    ORDER_ID,
    {
      name: 'realized_profit',
      type: 'double precision',
      kind: 'float8',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'pnl_usd',
      type: 'double precision',
      kind: 'float8',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'cost_basis_usd',
      type: 'double precision',
      kind: 'float8',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'sale_proceeds_usd',
      type: 'double precision',
      kind: 'float8',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'net_sale_proceeds_usd',
      type: 'double precision',
      kind: 'float8',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'parent_id',
      type: 'character varying',
      kind: 'text',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'on trades without one',
    },
    {
      name: 'archived_at',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: false,
      default: 'now()',
    },
    {
      name: 'restored_at',
      type: 'timestamp with time zone',
      kind: 'time',
      nullable: true,
      insert: 'maybe-null',
      nullWhen: 'until `fifo legacy restore` runs',
    },
  ],
} as const satisfies TableSpec;

export const MIRROR_WRITES = {
  name: 'fifo_mirror_writes',
  columns: [ORDER_ID, RECORDED_AT],
} as const satisfies TableSpec;

export const REBUILD_RUNS = {
  name: 'fifo_rebuild_runs',
  columns: [
    { name: 'run_id', type: 'uuid', kind: 'uuid', nullable: false, insert: 'always' },
    VERSION,
    { name: 'partitions', type: 'integer', kind: 'count', nullable: false, insert: 'always' },
    {
      name: 'dry_run',
      type: 'boolean',
      kind: 'boolean',
      nullable: false,
      default: 'false',
      insert: 'always',
    },
    {
      name: 'first_build',
      type: 'boolean',
      kind: 'boolean',
      nullable: false,
      default: 'false',
      insert: 'always',
    },
    { name: 'triggered_by', type: 'text', kind: 'text', nullable: false, insert: 'always' },
    { name: 'planned_at', type: 'timestamp with time zone', kind: 'time', nullable: false, default: 'now()' },
    { name: 'finished_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
    {
      name: 'status',
      type: 'text',
      kind: 'text',
      nullable: false,
      default: "'open'::text",
      values: ['open', 'completed', 'abandoned'],
    },
    { name: 'log_id', type: 'bigint', kind: 'integer', nullable: true },
  ],
} as const satisfies TableSpec;

export const REBUILD_PARTITIONS = {
  name: 'fifo_rebuild_partitions',
  columns: [
    { name: 'run_id', type: 'uuid', kind: 'uuid', nullable: false, insert: 'always' },
    { name: 'partition', type: 'integer', kind: 'count', nullable: false, insert: 'always', sign: COUNT },
    { name: 'symbols', type: 'character varying[]', kind: 'symbols', nullable: false, insert: 'always' },
    { name: 'trades', type: 'bigint', kind: 'count', nullable: false, insert: 'always', sign: COUNT },
    {
      name: 'status',
      type: 'text',
      kind: 'text',
      nullable: false,
      default: "'pending'::text",
      values: ['pending', 'running', 'completed'],
    },
    { name: 'holder', type: 'text', kind: 'text', nullable: true },
    { name: 'backend_pid', type: 'integer', kind: 'integer', nullable: true },
    { name: 'claimed_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
    { name: 'lease_expires_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
    { name: 'heartbeat_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
    { name: 'attempts', type: 'integer', kind: 'count', nullable: false, default: '0' },
    { name: 'last_error', type: 'text', kind: 'text', nullable: true },
    { name: 'result', type: 'jsonb', kind: 'jsonb', nullable: true },
    { name: 'completed_at', type: 'timestamp with time zone', kind: 'time', nullable: true },
  ],
} as const satisfies TableSpec;

export const SYMBOL_LOCKS = {
  name: 'fifo_symbol_locks',
  columns: [VERSION, SYMBOL],
} as const satisfies TableSpec;
