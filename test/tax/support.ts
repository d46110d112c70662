/** Allocation rows and report options for the tax tests, in the engine's canonical text. */
import type { AllocationRow } from '../../shared/fifo/index.ts';
import { formatAmount, parseAmount, type TaxRowOptions } from '../../shared/tax/index.ts';

/** A matched slice: bought at `buy`, sold at `sell` (canonical UTC text), amounts as text. */
export function slice(
  fields: Partial<AllocationRow> & { buy: string | null; sell: string; cost?: string | null; net?: string },
): AllocationRow {
  const { buy, sell, cost = '100', net = '110', ...rest } = fields;
  const matched = buy !== null;
  return {
    sell_order_id: 's1',
    buy_order_id: matched ? 'b1' : null,
    symbol: 'BTC-USD',
    allocated_size: '0.5',
    buy_price: matched ? '200' : null,
    sell_price: '221',
    buy_fees_per_unit: matched ? '0' : null,
    sell_fees_per_unit: '1',
    cost_basis_usd: matched ? cost : null,
    proceeds_usd: '110.5',
    net_proceeds_usd: net,
    pnl_usd: matched && cost !== null ? formatAmount(parseAmount(net) - parseAmount(cost)) : null,
    buy_time: buy,
    sell_time: sell,
    notes: matched ? null : 'unmatched: 0.5 of 0.5 sold had no open lot',
    ...rest,
  };
}

export const options = (overrides: Partial<TaxRowOptions> = {}): TaxRowOptions => ({
  year: 2026,
  timeZone: 'UTC',
  version: 1,
  brokerReporting: 'custodial',
  unmatched: 'flag',
  ...overrides,
});

/** Canonical UTC text for a local date and time written as UTC: `at('2026-03-15')`. */
export const at = (date: string, time = '12:00:00.000000'): string => `${date}T${time}Z`;
