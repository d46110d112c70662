/**
 * An external merge sort for `fifo replay`: items are kept in memory up to `runSize`, then
 * sorted and written to a temporary file (a run), one line each; reading merges the runs.
 * Memory stays bounded by the run size, whatever the input's. An input that fits in one run
 * never touches the disk.
 *
 * Items come out in batches, and a run is read in chunks of 64 KB split into lines: a merge
 * step awaits only when a run's buffered lines are used up (docs/performance.md, `fifo replay`).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface SortCodec<T> {
  /** One line of text: it must not contain "\n". */
  readonly encode: (item: T) => string;
  readonly decode: (line: string) => T;
  readonly compare: (a: T, b: T) => number;
}

/** Items handed out at a time by `batches()`. */
const BATCH = 4096;
const READ_BYTES = 1 << 16;

/** The lines of a run file, read ahead in large chunks. */
class RunReader {
  private lines: string[] = [];
  private next = 0;
  private rest = '';
  private done = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.allocUnsafe(READ_BYTES);

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<RunReader> {
    return new RunReader(await open(path, 'r'));
  }

  /** The next line if one is buffered, undefined when the buffer needs `fill()`, null at the end. */
  take(): string | null | undefined {
    if (this.next < this.lines.length) return this.lines[this.next++]!;
    return this.done ? null : undefined;
  }

  /** Reads until at least one more line is buffered, or the end. */
  async fill(): Promise<void> {
    this.lines = [];
    this.next = 0;
    while (this.lines.length === 0 && !this.done) {
      const { bytesRead } = await this.file.read(this.buffer, 0, READ_BYTES, null);
      let text: string;
      if (bytesRead === 0) {
        this.done = true;
        await this.file.close();
        text = this.rest + this.decoder.end();
        this.rest = '';
        if (text !== '') this.lines = text.split('\n');
        if (this.lines.at(-1) === '') this.lines.pop();
        return;
      }
      text = this.rest + this.decoder.write(this.buffer.subarray(0, bytesRead));
      const last = text.lastIndexOf('\n');
      if (last < 0) {
        this.rest = text;
        continue;
      }
      this.rest = text.slice(last + 1);
      this.lines = text.slice(0, last).split('\n');
    }
  }

  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.file.close();
    }
  }
}

export class ExternalSorter<T> {
  private buffer: T[] = [];
  private readonly runs: string[] = [];

  constructor(
    private readonly codec: SortCodec<T>,
    private readonly runSize: number,
    /** A directory for the runs, created on first need. */
    private readonly tempDir: () => Promise<string>,
    private readonly name: string,
  ) {}

  /** Adds an item; a promise only when a run goes to disk, to be awaited before the next add. */
  add(item: T): Promise<void> | undefined {
    this.buffer.push(item);
    return this.buffer.length >= this.runSize ? this.spill() : undefined;
  }

  private async spill(): Promise<void> {
    const items = this.buffer.sort(this.codec.compare);
    this.buffer = [];
    const path = join(await this.tempDir(), `${this.name}-${this.runs.length}.lines`);
    const out = createWriteStream(path);
    let chunk = '';
    for (const item of items) {
      chunk += `${this.codec.encode(item)}\n`;
      if (chunk.length >= 1 << 20) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');
    this.runs.push(path);
  }

  /** Every item added, in order, one at a time. */
  async *sorted(): AsyncGenerator<T> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Every item added, in order, in batches. */
  async *batches(): AsyncGenerator<T[]> {
    if (this.runs.length === 0) {
      const items = this.buffer.sort(this.codec.compare);
      this.buffer = [];
      for (let i = 0; i < items.length; i += BATCH) yield items.slice(i, i + BATCH);
      return;
    }
    if (this.buffer.length > 0) await this.spill();
    const readers = await Promise.all(this.runs.map((path) => RunReader.open(path)));
    try {
      yield* this.merge(readers);
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  }

  private async *merge(readers: RunReader[]): AsyncGenerator<T[]> {
    const { compare, decode } = this.codec;
    // A binary heap of the runs' next items.
    const items: T[] = [];
    const runs: number[] = [];
    const down = (from: number) => {
      const n = items.length;
      const item = items[from]!;
      const run = runs[from]!;
      let i = from;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && compare(items[r]!, items[l]!) < 0 ? r : l;
        if (compare(items[m]!, item) >= 0) break;
        items[i] = items[m]!;
        runs[i] = runs[m]!;
        i = m;
      }
      items[i] = item;
      runs[i] = run;
    };
    const read = async (run: number): Promise<string | null> => {
      const reader = readers[run]!;
      let line = reader.take();
      if (line === undefined) {
        await reader.fill();
        line = reader.take();
      }
      return line ?? null;
    };
    for (let run = 0; run < readers.length; run++) {
      const line = await read(run);
      if (line !== null) {
        items.push(decode(line));
        runs.push(run);
      }
    }
    for (let i = (items.length >> 1) - 1; i >= 0; i--) down(i);
    let batch: T[] = [];
    while (items.length > 0) {
      batch.push(items[0]!);
      const run = runs[0]!;
      let line = readers[run]!.take();
      if (line === undefined) line = await read(run);
      if (line === null) {
        const lastItem = items.pop()!;
        const lastRun = runs.pop()!;
        if (items.length > 0) {
          items[0] = lastItem;
          runs[0] = lastRun;
          down(0);
        }
      } else {
        items[0] = decode(line);
        down(0);
      }
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}
