/**
 * Streaming a query out with COPY ... TO STDOUT on its own connection, parsed from COPY's
 * text format. Faster than a cursor (no per-row protocol messages), and PostgreSQL keeps
 * producing the next rows while the engine computes, so reading and computing overlap on
 * the machine's two cores.
 */
import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One field of COPY text format: \N is NULL, backslash escapes are undone. */
export function copyField(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === 'x') return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(Number.parseInt(code, 8));
    return ESCAPES[code] ?? code;
  });
}

/** One line of COPY text: its fields, NULLs and escapes undone, in the array split gave. */
function copyLine(line: string): (string | null)[] {
  const fields: (string | null)[] = line.split('\t');
  for (let i = 0; i < fields.length; i++) {
    const raw = fields[i]!;
    // Most fields are plain: no second array, no call.
    if (raw === '\\N' || raw.includes('\\')) fields[i] = copyField(raw);
  }
  return fields;
}

/** Reads `COPY (query) TO STDOUT` in batches of parsed rows (arrays of fields). */
export class CopyRowStream {
  private readonly decoder = new StringDecoder('utf8');
  private readonly iterator: AsyncIterator<Buffer>;
  private rest = '';
  private done = false;

  constructor(client: pg.ClientBase, query: string) {
    const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
    // The iterator rethrows a stream error to the reader of the rows; an error after the
    // reader gave up (its connection closed on the way out) must not crash the process.
    stream.on('error', () => {});
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next rows (at least one unless the stream ended); empty at the end. */
  async next(): Promise<(string | null)[][]> {
    while (!this.done) {
      const { value, done } = await this.iterator.next();
      if (done) {
        this.done = true;
        this.rest += this.decoder.end();
        break;
      }
      const text = this.rest + this.decoder.write(value);
      const end = text.lastIndexOf('\n');
      if (end < 0) {
        this.rest = text;
        continue;
      }
      this.rest = text.slice(end + 1);
      return text.slice(0, end).split('\n').map(copyLine);
    }
    if (this.rest) {
      const last = this.rest;
      this.rest = '';
      return [copyLine(last)];
    }
    return [];
  }
}
