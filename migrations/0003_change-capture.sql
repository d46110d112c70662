-- Up Migration
-- Change capture: every insert, update and delete on trade_records that can change FIFO
-- (symbol, side, time, price, size, fee, status, and which row it is) is recorded once per
-- version, with the trade's symbol and order_time before and after. This is how incremental
-- runs see late, back-dated, corrected and cancelled trades without scanning history.
-- Statement-level triggers with transition tables keep bulk loads cheap.
CREATE TABLE IF NOT EXISTS fifo_trade_changes (
  change_id bigserial PRIMARY KEY,
  allocation_version int NOT NULL,
  symbol varchar NOT NULL,
  order_time timestamptz NOT NULL,
  order_id varchar NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS fifo_trade_changes_version_symbol_idx
  ON fifo_trade_changes (allocation_version, symbol);
CREATE INDEX IF NOT EXISTS fifo_trade_changes_version_recorded_idx
  ON fifo_trade_changes (allocation_version, recorded_at);

CREATE OR REPLACE FUNCTION fifo_capture_trade_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- fifo-ledger's own writes to trade_records (remaining_size) are not trade changes.
  IF current_setting('fifo.suppress_capture', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
    SELECT v.allocation_version, n.symbol, n.order_time, n.order_id
    FROM new_rows n CROSS JOIN fifo_versions v
    WHERE v.capture_changes;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
    SELECT v.allocation_version, o.symbol, o.order_time, o.order_id
    FROM old_rows o CROSS JOIN fifo_versions v
    WHERE v.capture_changes;
  ELSE
    -- An update records the row before and after, unless nothing FIFO reads changed
    -- (the bot's reconcile passes upsert identical values).
    INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
    SELECT v.allocation_version, c.symbol, c.order_time, c.order_id
    FROM (
      SELECT o.symbol, o.order_time, o.order_id
      FROM old_rows o
      WHERE NOT EXISTS (
        SELECT 1 FROM new_rows n
        WHERE n.order_id = o.order_id
          AND (n.symbol, n.side, n.order_time, n.price, n.size, n.total_fees_usd, n.status)
              IS NOT DISTINCT FROM (o.symbol, o.side, o.order_time, o.price, o.size, o.total_fees_usd, o.status)
      )
      UNION ALL
      SELECT n.symbol, n.order_time, n.order_id
      FROM new_rows n
      WHERE NOT EXISTS (
        SELECT 1 FROM old_rows o
        WHERE o.order_id = n.order_id
          AND (n.symbol, n.side, n.order_time, n.price, n.size, n.total_fees_usd, n.status)
              IS NOT DISTINCT FROM (o.symbol, o.side, o.order_time, o.price, o.size, o.total_fees_usd, o.status)
      )
    ) c CROSS JOIN fifo_versions v
    WHERE v.capture_changes;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS fifo_capture_insert ON trade_records;
DROP TRIGGER IF EXISTS fifo_capture_update ON trade_records;
DROP TRIGGER IF EXISTS fifo_capture_delete ON trade_records;
CREATE TRIGGER fifo_capture_insert AFTER INSERT ON trade_records
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_capture_trade_changes();
CREATE TRIGGER fifo_capture_update AFTER UPDATE ON trade_records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_capture_trade_changes();
CREATE TRIGGER fifo_capture_delete AFTER DELETE ON trade_records
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_capture_trade_changes();

-- Down Migration
DROP TRIGGER IF EXISTS fifo_capture_insert ON trade_records;
DROP TRIGGER IF EXISTS fifo_capture_update ON trade_records;
DROP TRIGGER IF EXISTS fifo_capture_delete ON trade_records;
DROP FUNCTION IF EXISTS fifo_capture_trade_changes();
DROP TABLE IF EXISTS fifo_trade_changes;
