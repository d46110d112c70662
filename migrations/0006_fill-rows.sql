-- Up Migration
-- The bot records an order twice when it fills in parts: the order itself (<uuid>) and one
-- row per fill (<uuid>-FILL-<n>). Counting both would count the fills twice. The order row
-- is what counts: fill rows are left out of the trade source. A rule that looks at one row
-- only keeps incremental runs and full rebuilds equal whatever order rows arrive in; fill
-- rows whose order row is missing are listed for review by the full rebuild instead.
CREATE OR REPLACE VIEW fifo_trade_source AS
SELECT
  t.order_id,
  t.symbol,
  lower(btrim(t.side)) AS side,
  t.order_time,
  t.price::text AS price,
  t.size::text AS size,
  t.total_fees_usd::text AS fee,
  t.remaining_size::text AS remaining_size
FROM trade_records t
WHERE (t.status IS NULL OR lower(t.status) IN ('filled', 'done'))
  AND t.order_id !~ '-FILL-[0-9]+$';

-- Down Migration
CREATE OR REPLACE VIEW fifo_trade_source AS
SELECT t.order_id, t.symbol, lower(btrim(t.side)) AS side, t.order_time, t.price::text AS price,
  t.size::text AS size, t.total_fees_usd::text AS fee, t.remaining_size::text AS remaining_size
FROM trade_records t
WHERE t.status IS NULL OR lower(t.status) IN ('filled', 'done');
