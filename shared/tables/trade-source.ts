/**
 * The trade source: the bot's trade_records (migrations/0001 creates it only where it is
 * missing, and adds what fifo-ledger needs) and the fifo_trade_source view over it, the one
 * thing the engine reads (migrations/0001, 0006). See ./spec.ts.
 */
import type { TableSpec } from './spec.ts';

const VARCHAR = 'character varying';
const FLOAT8 = 'double precision';
const TIME = 'timestamp with time zone';

export const TRADE_RECORDS = {
  name: 'trade_records',
  columns: [
    { name: 'order_id', type: VARCHAR, kind: 'text', nullable: false },
    { name: 'parent_id', type: VARCHAR, nullable: true, deprecated: true },
    { name: 'parent_ids', type: `${VARCHAR}[]`, nullable: true, deprecated: true },
    { name: 'symbol', type: VARCHAR, kind: 'text', nullable: false },
    { name: 'side', type: VARCHAR, kind: 'text', nullable: false },
    { name: 'order_time', type: TIME, kind: 'time', nullable: false },
    { name: 'price', type: FLOAT8, kind: 'trade-number', nullable: false },
    { name: 'size', type: FLOAT8, kind: 'trade-number', nullable: false },
    { name: 'pnl_usd', type: FLOAT8, nullable: true, deprecated: true },
    { name: 'total_fees_usd', type: FLOAT8, kind: 'trade-number', nullable: true, addedIfMissing: true },
    { name: 'trigger', type: 'jsonb', nullable: false, default: "'{}'::jsonb" },
    { name: 'order_type', type: VARCHAR, nullable: true },
    { name: 'status', type: VARCHAR, kind: 'text', nullable: true, addedIfMissing: true },
    { name: 'source', type: VARCHAR, nullable: true },
    { name: 'cost_basis_usd', type: FLOAT8, nullable: true, deprecated: true },
    { name: 'sale_proceeds_usd', type: FLOAT8, nullable: true, deprecated: true },
    { name: 'net_sale_proceeds_usd', type: FLOAT8, nullable: true, deprecated: true },
    {
      name: 'remaining_size',
      type: FLOAT8,
      kind: 'mirror',
      nullable: true,
      addedIfMissing: true,
      sign: { min: 'nonnegative', when: '0 once a lot is consumed' },
    },
    { name: 'realized_profit', type: FLOAT8, nullable: true, deprecated: true },
    { name: 'ingest_via', type: 'text', nullable: true },
    { name: 'last_reconciled_at', type: TIME, nullable: true },
    { name: 'last_reconciled_via', type: 'text', nullable: true },
  ],
} as const satisfies TableSpec;

/**
 * fifo_trade_source: a trade's float8 values as text, their shortest exact round-trip form.
 * An operator whose table differs redefines the view, so its columns may hold anything: the
 * engine's input layer checks every value (shared/fifo/trade-input.ts). `nullable` says
 * what a reader must expect; a view's columns are all nullable in the catalog.
 */
export const TRADE_SOURCE = {
  name: 'fifo_trade_source',
  columns: [
    { name: 'order_id', type: VARCHAR, kind: 'text', nullable: false },
    { name: 'symbol', type: VARCHAR, kind: 'text', nullable: false },
    { name: 'side', type: 'text', kind: 'text', nullable: false },
    { name: 'order_time', type: TIME, kind: 'time', nullable: false },
    { name: 'price', type: 'text', kind: 'trade-number', nullable: true },
    { name: 'size', type: 'text', kind: 'trade-number', nullable: true },
    { name: 'fee', type: 'text', kind: 'trade-number', nullable: true },
    /** trade_records.remaining_size (buys), to skip writing unchanged values. */
    { name: 'remaining_size', type: 'text', kind: 'mirror', nullable: true },
  ],
} as const satisfies TableSpec;
