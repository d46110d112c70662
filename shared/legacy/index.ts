/**
 * Adopting the bot's live database and retiring its legacy PnL columns: the read-only
 * adoption check, the legacy archive and restore, legacy vs FIFO reconciliation, and the
 * parallel-run tools (compare two versions, prune old ones). docs/migration.md is the runbook.
 */
export {
  type AdoptionCheck,
  checkAdoption,
  type ForeignKeyFinding,
  migrationFiles,
  type PlannedChange,
  type Problem,
  type VersionFinding,
} from './adopt-check.ts';
export {
  ARCHIVE_TABLE,
  type ArchiveResult,
  archiveLegacy,
  LegacyError,
  type RestoreResult,
  restoreLegacy,
} from './archive.ts';
export { compareVersions, type VersionComparison } from './compare-versions.ts';
export {
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_TRIGGERS,
  LEGACY_ARCHIVE_COLUMNS,
} from './expected-schema.ts';
export {
  compareLegacyPnl,
  LEGACY_PNL_COLUMNS,
  type LegacyPnlComparison,
  type LegacyPnlReconciliation,
  type LegacyPnlRow,
  reconcileLegacy,
} from './legacy-vs-fifo.ts';
export {
  archiveText,
  comparisonText,
  pruneText,
  reconciliationText,
  restoreText,
} from './text.ts';
export {
  listVersions,
  type PruneResult,
  planPrune,
  pruneVersions,
  type StoredVersion,
  VersionError,
} from './versions.ts';
