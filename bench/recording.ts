/**
 * Trade-recording overhead of change capture: the median latency of single-row upserts
 * into trade_records, the way the bot writes them, with the capture triggers and without.
 * The two are interleaved in blocks so machine noise hits both alike.
 */
import type pg from 'pg';

const UPSERT = `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status,
    "trigger", source, ingest_via)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'filled', '{"trigger": "bench"}', 'websocket', 'websocket')
  ON CONFLICT (order_id) DO UPDATE SET
    symbol = EXCLUDED.symbol, side = EXCLUDED.side, order_time = EXCLUDED.order_time, price = EXCLUDED.price,
    size = EXCLUDED.size, total_fees_usd = EXCLUDED.total_fees_usd, status = EXCLUDED.status,
    "trigger" = EXCLUDED."trigger", source = EXCLUDED.source, ingest_via = EXCLUDED.ingest_via`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function measureRecordingOverhead(
  pool: pg.Pool,
  upserts: number,
  onProgress?: (done: number) => void,
): Promise<{ withTriggerMs: number; withoutTriggerMs: number; ratio: number }> {
  if (!Number.isInteger(upserts) || upserts < 1)
    throw new Error(`upserts: a whole number >= 1, got ${upserts}`);
  const client = await pool.connect();
  const withTrigger: number[] = [];
  const without: number[] = [];
  try {
    // Blocks of up to 500, alternating with and without capture, the same count on each side.
    const block = Math.min(500, upserts);
    let n = 0;
    for (let perSide = 0; perSide < upserts; perSide += block) {
      const size = Math.min(block, upserts - perSide);
      for (const capture of [true, false]) {
        await client.query(`ALTER TABLE trade_records ${capture ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
        for (let i = 0; i < size; i++, n++) {
          // Half new fills, half re-recorded ones (the bot's reconcile pass upserts again).
          const id = `bench-rec-${n % 2 === 0 ? n : n - 1}`;
          const started = process.hrtime.bigint();
          await client.query(UPSERT, [
            id,
            'BENCH-USD',
            n % 3 === 0 ? 'sell' : 'buy',
            new Date(Date.UTC(2027, 0, 1) + n * 1000).toISOString(),
            String(100 + (n % 50)),
            '0.5',
            '0.05',
          ]);
          (capture ? withTrigger : without).push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        onProgress?.(n);
      }
    }
  } finally {
    await client.query('ALTER TABLE trade_records ENABLE TRIGGER USER').catch(() => {});
    client.release();
  }
  const withTriggerMs = median(withTrigger);
  const withoutTriggerMs = median(without);
  return { withTriggerMs, withoutTriggerMs, ratio: withTriggerMs / withoutTriggerMs };
}
