// Citizen text may carry bidirectional control characters (a right-to-left override makes
// `exe.jpg` read as `gpj.exe`, a name read as another). Every piece of citizen text is
// isolated where it is shown (`dir="auto"` with `unicode-bidi: isolate`, the `.iso` class),
// so it cannot rearrange what is around it; where an officer reads it closely (the detail)
// its control characters are also shown as what they are.

/** Bidirectional marks, embeddings, overrides and isolates. */
const CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The text with each bidirectional control character shown as `⟦U+202E⟧`. */
export function showControls(text: string): string {
  return text.replace(CONTROLS, (c) => `⟦U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}⟧`);
}
