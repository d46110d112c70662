-- Up Migration
-- The legacy PnL values the bot computed inline, kept when `fifo legacy archive` sets the
-- deprecated trade_records columns NULL, so `fifo legacy restore` can put them back and
-- `fifo reconcile` can still compare them with FIFO. One row per trade (order_id), holding
-- the values of the columns that existed when it was archived.
--
-- The float8 columns stay double precision: a float8 copied into a float8 keeps its eight
-- bytes (0.30000000000000004, -0, 5e-324, NaN, the infinities), so the round trip is bit for
-- bit. Converting through numeric or text would not guarantee that.
--
-- No foreign key to trade_records: a trade deleted (cancelled) after archiving keeps its
-- archived values here.
CREATE TABLE IF NOT EXISTS fifo_legacy_pnl_archive (
  order_id varchar PRIMARY KEY,
  realized_profit double precision,
  pnl_usd double precision,
  cost_basis_usd double precision,
  sale_proceeds_usd double precision,
  net_sale_proceeds_usd double precision,
  parent_id varchar,
  -- When the row was first archived; a later archive that adds values keeps it.
  archived_at timestamptz NOT NULL DEFAULT now(),
  -- When the values were last put back by `fifo legacy restore`; NULL once archived again.
  restored_at timestamptz
);

-- Down Migration
-- The archive may hold the only copy of the legacy values: it is dropped only when empty.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM fifo_legacy_pnl_archive) THEN
    RAISE EXCEPTION 'fifo_legacy_pnl_archive holds archived legacy values: run "fifo legacy restore", check the values, then empty the table by hand before migrating down';
  END IF;
END
$$;
DROP TABLE IF EXISTS fifo_legacy_pnl_archive;
