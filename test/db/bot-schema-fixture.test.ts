/**
 * The bot's schema in the tests is the production DDL itself (../shared/bot-schema.sql), not
 * a shape written from memory: an adoption test that passed on a remembered schema once hid a
 * first full rebuild that failed on the real one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_SCHEMA_FILE, createBotSchema, SHARED_BOT_SCHEMA_FILE } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

const sharedPresent = existsSync(SHARED_BOT_SCHEMA_FILE);

describe('the bot schema fixture', () => {
  it.skipIf(!sharedPresent)('is byte-identical to ../shared/bot-schema.sql', () => {
    // Why: the copy in the repository must never drift from the production DDL it stands for.
    // Prepare / Act
    const copy = readFileSync(BOT_SCHEMA_FILE);
    const original = readFileSync(SHARED_BOT_SCHEMA_FILE);

    // Assess
    expect(copy.equals(original)).toBe(true);
  });

  describe('loaded into PostgreSQL', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createEmptyDatabase();
      await createBotSchema(db.pool, { data: false });
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('has the details that break a writer assuming its own schema (docs/design.md §3.1)', async () => {
      // Why: these two facts are what the first real full rebuild failed on; if a fixture ever
      // lost them, the tests would pass on a database that does not exist.
      // Prepare / Act
      const { rows } = await db.pool.query<{
        column: string;
        type: string;
        not_null: boolean;
        has_default: boolean;
      }>(
        `SELECT attname AS column, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null,
                atthasdef AS has_default
         FROM pg_attribute WHERE attrelid = 'fifo_computation_log'::regclass
           AND attname IN ('computation_start', 'symbols_processed', 'allocation_batch_id') ORDER BY attname`,
      );

      // Assess
      expect(rows).toEqual([
        { column: 'allocation_batch_id', type: 'uuid', not_null: true, has_default: false },
        { column: 'computation_start', type: 'timestamp with time zone', not_null: true, has_default: false },
        { column: 'symbols_processed', type: 'character varying[]', not_null: false, has_default: false },
      ]);
    });
  });
});
