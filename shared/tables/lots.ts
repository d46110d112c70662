/** fifo_lots (migrations/0002): every buy's lot state per version. See ./spec.ts. */
import type { TableSpec } from './spec.ts';

const CONSUMED = '0 once the lot is consumed';

export const LOTS = {
  name: 'fifo_lots',
  columns: [
    { name: 'allocation_version', type: 'integer', kind: 'integer', nullable: false, from: 'run' },
    { name: 'buy_order_id', type: 'character varying', kind: 'text', nullable: false, from: 'row' },
    { name: 'symbol', type: 'character varying', kind: 'text', nullable: false, from: 'row' },
    { name: 'buy_time', type: 'timestamp with time zone', kind: 'time', nullable: false, from: 'row' },
    {
      name: 'buy_price',
      type: 'numeric',
      kind: 'quantity',
      nullable: false,
      from: 'row',
      sign: { min: 'positive' },
    },
    {
      name: 'buy_fees_per_unit',
      type: 'numeric',
      kind: 'per-unit',
      nullable: false,
      from: 'row',
      sign: { min: 'nonnegative', when: '0 when the buy paid no fee' },
    },
    {
      name: 'size',
      type: 'numeric',
      kind: 'quantity',
      nullable: false,
      from: 'row',
      sign: { min: 'positive' },
    },
    {
      name: 'remaining_size',
      type: 'numeric',
      kind: 'quantity',
      nullable: false,
      from: 'row',
      sign: { min: 'nonnegative', when: CONSUMED },
    },
    {
      name: 'remaining_cost_usd',
      type: 'numeric',
      kind: 'usd',
      nullable: false,
      from: 'row',
      sign: { min: 'nonnegative', when: CONSUMED },
    },
    { name: 'allocation_batch_id', type: 'uuid', kind: 'uuid', nullable: true, from: 'run' },
    { name: 'updated_at', type: 'timestamp with time zone', kind: 'time', nullable: false, default: 'now()' },
  ],
} as const satisfies TableSpec;
