/**
 * The tax report's two settings, in a module with no imports, so that the CLI can offer their
 * choices without loading the report's code at every start.
 */

/** What the broker reported on Form 1099-DA; see ./boxes.ts for what each gives. */
export const BROKER_REPORTING = ['custodial', 'basis', 'proceeds', 'none'] as const;
export type BrokerReporting = (typeof BROKER_REPORTING)[number];

/** A sell without a lot: flagged MISSING BASIS (the default), or reported at zero basis. */
export const UNMATCHED_MODES = ['flag', 'zero-basis'] as const;
export type UnmatchedMode = (typeof UNMATCHED_MODES)[number];
