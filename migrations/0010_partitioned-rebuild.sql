-- Up Migration
-- The partitioned full rebuild (docs/design.md §4.3):
-- a run is planned once, its partitions are processed by separate processes (worker threads,
-- CLI invocations or Lambda invocations under Step Functions), and it is finished once.
--
-- A session advisory lock dies with its session, so it cannot span invocations. Two things
-- replace it for a partitioned run:
--   * a lease per partition, kept in the database (holder, expiry, heartbeat): one process
--     at a time works a partition, and a dead one's lease runs out so a retry can take over;
--   * a row lock per symbol (fifo_symbol_locks, FOR UPDATE in the writing transaction): a
--     symbol is written by one transaction at a time, whichever job it belongs to. Row locks
--     live in the rows, not in the shared lock table, so a partition may hold any number.

CREATE TABLE IF NOT EXISTS fifo_rebuild_runs (
  run_id uuid PRIMARY KEY,
  allocation_version integer NOT NULL,
  partitions integer NOT NULL,
  dry_run boolean NOT NULL DEFAULT false,
  -- Whether the version stored nothing when planned: its partitions' rows are then no drift.
  first_build boolean NOT NULL DEFAULT false,
  triggered_by text NOT NULL,
  planned_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'abandoned')),
  -- fifo_computation_log.id of the run's log row, once finish wrote it.
  log_id bigint
);
CREATE INDEX IF NOT EXISTS fifo_rebuild_runs_open_idx ON fifo_rebuild_runs (allocation_version) WHERE status = 'open';

CREATE TABLE IF NOT EXISTS fifo_rebuild_partitions (
  -- fifo_rebuild_runs.run_id
  run_id uuid NOT NULL,
  partition integer NOT NULL CHECK (partition >= 0),
  symbols varchar[] NOT NULL,
  trades bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed')),
  holder text,
  -- The claiming session (pg_backend_pid): a lease whose session is gone is free at once.
  backend_pid integer,
  -- When it was claimed: a session that started later under a reused pid is not the holder.
  claimed_at timestamptz,
  lease_expires_at timestamptz,
  heartbeat_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  -- The partition's figures (counts, drift, pending changes), added up by finish.
  result jsonb,
  completed_at timestamptz,
  PRIMARY KEY (run_id, partition)
);

CREATE TABLE IF NOT EXISTS fifo_symbol_locks (
  allocation_version integer NOT NULL,
  symbol varchar NOT NULL,
  PRIMARY KEY (allocation_version, symbol)
);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_writer') THEN
    GRANT SELECT, INSERT, UPDATE ON public.fifo_rebuild_runs, public.fifo_rebuild_partitions,
      public.fifo_symbol_locks TO fifo_ledger_writer;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fifo_ledger_reader') THEN
    GRANT SELECT ON public.fifo_rebuild_runs, public.fifo_rebuild_partitions TO fifo_ledger_reader;
  END IF;
END
$$;

-- Down Migration
DROP TABLE IF EXISTS fifo_symbol_locks;
DROP TABLE IF EXISTS fifo_rebuild_partitions;
DROP TABLE IF EXISTS fifo_rebuild_runs;
