/**
 * The pieces every section of the HTML email is built from: colours, the font, headings,
 * paragraphs, notes and the data table. Email clients ignore <style> blocks, so every piece
 * carries its CSS inline; every element that holds text sets its colour (render-html.ts says
 * why).
 */

import { signedMoney } from '../../util/format.ts';
import type { Usable } from '../inputs.ts';
import type { Verdict } from '../verdict.ts';
import { type HtmlValue, html, type SafeHtml } from './safe.ts';

export const FONT = html`-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif`;
export const C = {
  text: '#1f2937',
  muted: '#4b5563',
  rule: '#e5e7eb',
  faint: '#f3f4f6',
  gain: '#15803d',
  gainFill: '#bbf7d0',
  loss: '#b91c1c',
  page: '#f3f4f6',
  card: '#ffffff',
  axis: '#9ca3af',
  curve: '#1d4ed8',
  curveFill: '#dbeafe',
  needs: '#92400e',
  needsBg: '#fffbeb',
};

export const BANNER: Record<Verdict, { bg: string; edge: string; fg: string }> = {
  OK: { bg: '#dcfce7', edge: '#15803d', fg: '#14532d' },
  WARNING: { bg: '#fef3c7', edge: '#b45309', fg: '#78350f' },
  STALE: { bg: '#fee2e2', edge: '#b91c1c', fg: '#7f1d1d' },
  FAILED: { bg: '#fee2e2', edge: '#7f1d1d', fg: '#7f1d1d' },
};

/** How many symbols, strategies, sources and positions (groups) and detail lines (rows) show. */
export interface Limits {
  readonly groups: number;
  readonly rows: number;
}

/** Lets a long word (an order id, a strategy's name) break anywhere rather than widen the page. */
export const WRAP = 'word-break:break-word;';

const pnlColor = (text: string) => (text.startsWith('-') ? C.loss : /[1-9]/.test(text) ? C.gain : C.text);

export const na = () => html`<span style="color:${C.muted};">n/a</span>`;

/** A PnL amount, coloured by sign. */
export const pnl = (text: string | null) =>
  text === null ? na() : html`<span style="color:${pnlColor(text)};">${signedMoney(text)}</span>`;

export const small = (content: HtmlValue) =>
  html`<div style="font-size:11px;line-height:15px;color:${C.muted};">${content}</div>`;

/** A small line that may hold a long unbroken id: it wraps anywhere. */
export const smallId = (content: HtmlValue) =>
  html`<div style="font-size:11px;line-height:15px;color:${C.muted};${WRAP}">${content}</div>`;

export function heading(title: string, note = ''): SafeHtml {
  return html`<h2 style="margin:24px 0 8px;font-size:16px;line-height:22px;color:${C.text};font-family:${FONT};">${title}${
    note ? html` <span style="font-size:12px;font-weight:normal;color:${C.muted};">${note}</span>` : ''
  }</h2>`;
}

export const paragraph = (content: HtmlValue, color = C.muted) =>
  html`<p style="margin:8px 0 0;font-size:12px;line-height:17px;color:${color};${WRAP}">${content}</p>`;

/** "... and 12 more symbols: where they are.", or nothing when none is hidden. */
export const more = (
  hidden: number,
  what: string,
  where = 'the plain-text part and the attached CSV have them',
) => (hidden > 0 ? paragraph(`... and ${hidden} more ${what}: ${where}.`) : '');

/** What a section needs on this database, instead of its figures. */
export const needsNote = (text: string) =>
  html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;margin-top:4px;"><tr><td bgcolor="${C.needsBg}" style="padding:8px 10px;background-color:${C.needsBg};border-left:4px solid ${C.needs};color:${C.needs};font-size:12px;line-height:17px;font-family:${FONT};${WRAP}"><b>Needs:</b> ${text}</td></tr></table>`;

export function usable<T>(input: Usable<T>, render: (value: T) => HtmlValue): HtmlValue {
  return input.ok ? render(input.value) : needsNote(input.needs);
}

export interface Column {
  readonly title: string;
  readonly align?: 'left' | 'right';
  /** A share of the table, e.g. '30%': keeps a name column from being squeezed on a phone. */
  readonly width?: string;
}

/** A data table: header row, rows of cells (text or markup), numbers right-aligned; cells wrap. */
export function dataTable(
  columns: readonly Column[],
  rows: readonly (readonly HtmlValue[])[],
  footer?: readonly HtmlValue[],
): SafeHtml {
  const cell = (tag: 'th' | 'td', content: HtmlValue, i: number, extra = '') => {
    const align = columns[i]?.align ?? 'left';
    const width = tag === 'th' && columns[i]?.width ? `width:${columns[i]!.width};` : '';
    // Cells inherit size and colour from the table; the header sets its own.
    const base =
      tag === 'th'
        ? `border-bottom:2px solid ${C.rule};font-size:11px;color:${C.muted};text-align:${align};`
        : `border-bottom:1px solid ${C.faint};`;
    // Text wraps anywhere (a long name); a number only between words ("52.3%" stays whole).
    const wrap = align === 'right' ? '' : WRAP;
    return html`<${tag} align="${align}" valign="top" style="${base}${width}${wrap}${extra}">${content}</${tag}>`;
  };
  const head = html`<tr>${columns.map((c, i) => cell('th', c.title, i))}</tr>`;
  const body = rows.map((r) => html`<tr>${r.map((content, i) => cell('td', content, i))}</tr>`);
  const foot = footer
    ? html`<tr>${footer.map((content, i) => cell('td', content, i, 'font-weight:bold;border-bottom:0;'))}</tr>`
    : '';
  // cellpadding rather than a padding on every cell: the same in every client, and shorter.
  return html`<table width="100%" cellpadding="5" cellspacing="0" border="0" bgcolor="${C.card}" style="width:100%;border-collapse:collapse;background-color:${C.card};color:${C.text};font-size:13px;line-height:18px;font-family:${FONT};font-variant-numeric:tabular-nums;">${head}${body}${foot}</table>`;
}
