// Windowing arithmetic for the queue: which rows are on screen and where to draw them.
// Browsers cap element heights (~16-33 million px), so beyond MAX_PX the scroll space is
// compressed: scrolling a pixel moves `scale` pixels of rows.

export const MAX_PX = 8_000_000;

export interface Window {
  /** Height of the scrollable spacer, px. */
  spacer: number;
  /** First row on screen. */
  first: number;
  /** How many rows to draw. */
  count: number;
  /** Where the first drawn row's top goes, px from the top of the spacer. */
  top: number;
}

export function windowFor(total: number, rowHeight: number, scrollTop: number, viewHeight: number): Window {
  const full = total * rowHeight;
  const scale = Math.max(1, full / MAX_PX);
  const spacer = full / scale;
  const virtualTop = Math.min(scrollTop * scale, Math.max(0, full - viewHeight));
  const first = Math.max(0, Math.min(total - 1, Math.floor(virtualTop / rowHeight)));
  const count = Math.max(0, Math.min(total - first, Math.ceil(viewHeight / rowHeight) + 2));
  const top = scrollTop - (virtualTop - first * rowHeight);
  return { spacer, first, count, top: Math.max(0, top) };
}

/** The scrollTop that shows row `index` (used to keep the selection in view). */
export function scrollTopFor(index: number, total: number, rowHeight: number): number {
  const full = total * rowHeight;
  const scale = Math.max(1, full / MAX_PX);
  return (index * rowHeight) / scale;
}
