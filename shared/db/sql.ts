/** SQL fragments shared by the database modules. Identifiers only; values always go in parameters. */

/** A timestamptz column as canonical UTC text, the engine's time form (shared/fifo/time.ts). */
export const utcText = (column: string): string =>
  `to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A numeric column as canonical text: no trailing zeros, as the engine formats it. */
export const numericText = (column: string): string => `trim_scale(${column})::text`;

/** First key of the advisory locks, 'FIFO' in ASCII; the second key is the version. */
export const LOCK_NAMESPACE = 0x4649464f;
