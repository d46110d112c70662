/**
 * Plain-text tables, for the terminal and the text email: every column as wide as its widest
 * cell (title included), two spaces between columns, trailing blanks trimmed. Text is
 * left-aligned and numbers right-aligned, so that digits line up.
 */
export type Align = 'left' | 'right';

export interface TextColumn {
  readonly title: string;
  readonly align: Align;
}

export const left = (title: string): TextColumn => ({ title, align: 'left' });
export const right = (title: string): TextColumn => ({ title, align: 'right' });

export interface TextTableOptions {
  /** Put before every line. @default '  ' */
  readonly indent?: string;
  /** A line of dashes under the titles. @default true */
  readonly rule?: boolean;
  /**
   * `notes[i]`, when not empty, is a line under row i, indented two more spaces: a long order
   * id or a command that would make every row too wide.
   */
  readonly notes?: readonly (string | undefined)[];
}

/** The table's lines, without line breaks. */
export function textTable(
  columns: readonly TextColumn[],
  rows: readonly (readonly string[])[],
  options: TextTableOptions = {},
): string[] {
  const { indent = '  ', rule = true, notes = [] } = options;
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => (columns[i]?.align === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.title)),
    ...(rule ? [line(widths.map((w) => '-'.repeat(w)))] : []),
    ...rows.flatMap((r, i) => (notes[i] ? [line(r), `${indent}  ${notes[i]}`] : [line(r)])),
  ];
}
