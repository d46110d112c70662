/**
 * An external merge sort for `fifo replay`: items are kept in memory up to `runSize`, then
 * sorted and written to a temporary file (a run), one JSON line each; reading merges the runs.
 * Memory stays bounded by the run size, whatever the input's. An input that fits in one run
 * never touches the disk.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SortCodec<T> {
  readonly encode: (item: T) => unknown;
  readonly decode: (value: unknown) => T;
  readonly compare: (a: T, b: T) => number;
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

  async add(item: T): Promise<void> {
    this.buffer.push(item);
    if (this.buffer.length >= this.runSize) await this.spill();
  }

  private async spill(): Promise<void> {
    const items = this.buffer.sort(this.codec.compare);
    this.buffer = [];
    const path = join(await this.tempDir(), `${this.name}-${this.runs.length}.ndjson`);
    const out = createWriteStream(path);
    let chunk = '';
    for (const item of items) {
      chunk += `${JSON.stringify(this.codec.encode(item))}\n`;
      if (chunk.length >= 1 << 20) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');
    this.runs.push(path);
  }

  /** Every item added, in order. */
  async *sorted(): AsyncGenerator<T> {
    if (this.runs.length === 0) {
      const items = this.buffer.sort(this.codec.compare);
      this.buffer = [];
      yield* items;
      return;
    }
    if (this.buffer.length > 0) await this.spill();
    const readers = this.runs.map((path) =>
      createInterface({ input: createReadStream(path, { highWaterMark: 1 << 16 }), crlfDelay: Infinity })[
        Symbol.asyncIterator
      ](),
    );
    // A binary heap of the runs' next items.
    const heap: { item: T; run: number }[] = [];
    const less = (i: number, j: number) => this.codec.compare(heap[i]!.item, heap[j]!.item) < 0;
    const swap = (i: number, j: number) => {
      const t = heap[i]!;
      heap[i] = heap[j]!;
      heap[j] = t;
    };
    const up = (i: number) => {
      while (i > 0 && less(i, (i - 1) >> 1)) {
        swap(i, (i - 1) >> 1);
        i = (i - 1) >> 1;
      }
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(l, m)) m = l;
        if (r < heap.length && less(r, m)) m = r;
        if (m === i) return;
        swap(i, m);
        i = m;
      }
    };
    const next = async (run: number): Promise<T | null> => {
      const line = await readers[run]!.next();
      return line.done ? null : this.codec.decode(JSON.parse(line.value));
    };
    for (let run = 0; run < readers.length; run++) {
      const item = await next(run);
      if (item !== null) {
        heap.push({ item, run });
        up(heap.length - 1);
      }
    }
    while (heap.length > 0) {
      const top = heap[0]!;
      yield top.item;
      const item = await next(top.run);
      if (item === null) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      } else {
        heap[0] = { item, run: top.run };
        down(0);
      }
    }
  }
}
