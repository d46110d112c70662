/**
 * Streaming reader of a `{"trades": [...]}` file: it hands out the elements of the top-level
 * "trades" array one at a time, each parsed with JSON.parse (so each means exactly what it meant
 * when the whole file went through JSON.parse), and never holds more of the file than one
 * element. Everything around the array (the skeleton) is kept and parsed at the end, so the file
 * as a whole must be valid JSON. No dependency: it only tracks strings, nesting and separators.
 */

export class JsonShapeError extends Error {
  override name = 'JsonShapeError';
}

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

type Mode = 'outside' | 'after-trades-colon' | 'before-element' | 'in-element' | 'after-element';

export class TradesArrayScanner {
  private mode: Mode = 'outside';
  private skeleton = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1 a string is a key when one is expected. */
  private expectKey = false;
  private keyStart = -1;
  private keyParts: string[] = [];
  private lastKey: string | null = null;
  private seenTrades = 0;
  private first = true;
  // Element state.
  private element: string[] = [];
  private elementDepth = 0;
  private elementScalar = false;
  private needElement = false;
  private elementsSeen = 0;

  /** The values of every complete element in `chunk`. */
  feed(chunk: string): unknown[] {
    if (this.first) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const out: unknown[] = [];
    let from = 0; // start of the text not yet copied (skeleton or element)
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      switch (this.mode) {
        case 'outside': {
          if (this.inString) {
            if (this.closesString(c) && this.keyStart >= 0) {
              this.keyParts.push(chunk.slice(this.keyStart, i + 1));
              this.keyStart = -1;
              try {
                this.lastKey = JSON.parse(this.keyParts.join('')) as string;
              } catch {
                this.lastKey = null;
              }
              this.keyParts = [];
            }
            continue;
          }
          if (c === 0x22) {
            this.inString = true;
            if (this.depth === 1 && this.expectKey) {
              this.expectKey = false;
              this.keyStart = i;
            }
          } else if (c === 0x7b || c === 0x5b) {
            this.depth++;
            if (this.depth === 1) this.expectKey = c === 0x7b;
          } else if (c === 0x7d || c === 0x5d) {
            this.depth--;
          } else if (c === 0x2c && this.depth === 1) {
            this.expectKey = true;
            this.lastKey = null;
          } else if (c === 0x3a && this.depth === 1 && this.lastKey === 'trades') {
            this.mode = 'after-trades-colon';
          }
          continue;
        }
        case 'after-trades-colon': {
          if (WS(c)) continue;
          if (c !== 0x5b) {
            // Not an array: left in the skeleton, where the shape check finds it.
            this.mode = 'outside';
            i--;
            continue;
          }
          this.seenTrades++;
          if (this.seenTrades > 1) throw new JsonShapeError('the key "trades" appears more than once');
          // The array's elements leave the skeleton: it keeps "[]".
          this.skeleton += `${chunk.slice(from, i)}[]`;
          from = i + 1;
          this.mode = 'before-element';
          this.needElement = false;
          continue;
        }
        case 'before-element': {
          if (WS(c)) continue;
          if (c === 0x5d) {
            if (this.needElement)
              throw new SyntaxError(`a comma is followed by "]" after trade ${this.elementsSeen}`);
            this.endArray();
            from = i + 1;
            continue;
          }
          this.mode = 'in-element';
          this.element = [];
          from = i;
          this.elementDepth = 0;
          this.elementScalar = !(c === 0x7b || c === 0x5b || c === 0x22);
          if (c === 0x22) {
            this.inString = true;
            this.elementDepth = 0;
          } else if (!this.elementScalar) this.elementDepth = 1;
          continue;
        }
        case 'in-element': {
          if (this.inString) {
            if (this.closesString(c) && this.elementDepth === 0 && !this.elementScalar) {
              out.push(this.finishElement(chunk.slice(from, i + 1)));
              from = i + 1;
            }
            continue;
          }
          if (this.elementScalar) {
            if (c === 0x2c || c === 0x5d || WS(c)) {
              out.push(this.finishElement(chunk.slice(from, i)));
              from = i;
              i--;
            }
            continue;
          }
          if (c === 0x22) this.inString = true;
          else if (c === 0x7b || c === 0x5b) this.elementDepth++;
          else if (c === 0x7d || c === 0x5d) {
            this.elementDepth--;
            if (this.elementDepth === 0) {
              out.push(this.finishElement(chunk.slice(from, i + 1)));
              from = i + 1;
            }
          }
          continue;
        }
        case 'after-element': {
          if (WS(c)) continue;
          if (c === 0x2c) {
            this.mode = 'before-element';
            this.needElement = true;
          } else if (c === 0x5d) {
            this.endArray();
          } else {
            throw new SyntaxError(`expected "," or "]" after trade ${this.elementsSeen}`);
          }
          from = i + 1;
        }
      }
    }
    if (this.mode === 'in-element') this.element.push(chunk.slice(from));
    else if (this.mode === 'outside' || this.mode === 'after-trades-colon') {
      const rest = chunk.slice(from);
      this.skeleton += rest;
      if (this.keyStart >= 0) {
        this.keyParts.push(chunk.slice(this.keyStart));
        this.keyStart = 0;
      }
    }
    return out;
  }

  /** Steps through one character inside a string; true when it is the closing quote. */
  private closesString(c: number): boolean {
    if (this.escaped) this.escaped = false;
    else if (c === 0x5c) this.escaped = true;
    else if (c === 0x22) {
      this.inString = false;
      return true;
    }
    return false;
  }

  private finishElement(tail: string): unknown {
    this.element.push(tail);
    const text = this.element.join('');
    this.element = [];
    this.elementsSeen++;
    this.mode = 'after-element';
    this.elementScalar = false;
    this.needElement = false;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`trade ${this.elementsSeen}: ${(error as Error).message}`);
    }
  }

  private endArray(): void {
    this.mode = 'outside';
    // The array's closing bracket is in the skeleton's "[]" already; depth is unchanged.
  }

  /**
   * Checks the whole file once it is read: valid JSON, an object with a "trades" array.
   * Throws SyntaxError (not valid JSON) or JsonShapeError (another shape).
   */
  end(): void {
    if (this.mode === 'in-element' && this.elementScalar) {
      this.finishElement('');
    }
    if (this.mode !== 'outside') throw new SyntaxError('the file ends inside the "trades" array');
    const parsed = JSON.parse(this.skeleton) as unknown;
    const trades = (parsed as { trades?: unknown } | null)?.trades;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Array.isArray(trades)) {
      throw new JsonShapeError('expected an object {"trades": [...]}');
    }
    if (this.seenTrades === 0 && trades.length > 0) {
      // A "trades" array the scanner did not see (an escaped key): not a shape it streams.
      throw new JsonShapeError('write the key "trades" without escapes');
    }
  }

  /** Characters of the file outside the trades array: a bound on what end() parses. */
  get skeletonLength(): number {
    return this.skeleton.length;
  }
}
