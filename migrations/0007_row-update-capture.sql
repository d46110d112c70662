-- Up Migration
-- Updates are captured by a row-level trigger whose WHEN clause compares the columns FIFO
-- reads. PostgreSQL evaluates it without calling any function, so updates that change
-- nothing FIFO reads (fifo-ledger's own remaining_size, the bot's reconcile bookkeeping)
-- cost nothing, and no transition tables are built for them. Inserts and deletes keep their
-- statement-level triggers, which suit bulk loads.
CREATE OR REPLACE FUNCTION fifo_capture_trade_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
  SELECT v.allocation_version, c.symbol, c.order_time, c.order_id
  FROM (VALUES (OLD.symbol, OLD.order_time, OLD.order_id), (NEW.symbol, NEW.order_time, NEW.order_id))
         AS c(symbol, order_time, order_id)
  CROSS JOIN fifo_versions v
  WHERE v.capture_changes;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS fifo_capture_update ON trade_records;
CREATE TRIGGER fifo_capture_update AFTER UPDATE ON trade_records
  FOR EACH ROW
  WHEN ((OLD.order_id, OLD.symbol, OLD.side, OLD.order_time, OLD.price, OLD.size, OLD.total_fees_usd, OLD.status)
        IS DISTINCT FROM
        (NEW.order_id, NEW.symbol, NEW.side, NEW.order_time, NEW.price, NEW.size, NEW.total_fees_usd, NEW.status))
  EXECUTE FUNCTION fifo_capture_trade_update();

-- Inserts too: a single-row insert, the bot's usual write, is cheaper through a row trigger
-- than through a statement trigger's transition table, and the bot's upserts that update an
-- existing row (INSERT ... ON CONFLICT DO UPDATE) then fire no insert trigger at all.
CREATE OR REPLACE FUNCTION fifo_capture_trade_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO fifo_trade_changes (allocation_version, symbol, order_time, order_id)
  SELECT v.allocation_version, NEW.symbol, NEW.order_time, NEW.order_id
  FROM fifo_versions v
  WHERE v.capture_changes;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS fifo_capture_insert ON trade_records;
CREATE TRIGGER fifo_capture_insert AFTER INSERT ON trade_records
  FOR EACH ROW EXECUTE FUNCTION fifo_capture_trade_insert();

-- Down Migration
DROP TRIGGER IF EXISTS fifo_capture_insert ON trade_records;
CREATE TRIGGER fifo_capture_insert AFTER INSERT ON trade_records
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_capture_trade_changes();
DROP FUNCTION IF EXISTS fifo_capture_trade_insert();
DROP TRIGGER IF EXISTS fifo_capture_update ON trade_records;
CREATE TRIGGER fifo_capture_update AFTER UPDATE ON trade_records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_capture_trade_changes();
DROP FUNCTION IF EXISTS fifo_capture_trade_update();
