// Single-letter keyboard shortcuts and the guard that keeps them from firing while the
// officer is typing. A letter that reaches the window is not always meant for it: a note
// box that closed mid-word, a drop-down that re-rendered after a change, or Escape out of
// the search box all drop focus onto the page while the officer's fingers keep going.
// Such letters were once read as shortcuts ("a" acknowledged the oldest SOS four times in
// one typed note), so a letter counts as a shortcut only after a pause in typing.

/** How long after the last keystroke in a field (or a field losing focus) letters are still
 *  taken as typing. Every swallowed letter extends it, so a stream of typing never leaks. */
export const TYPING_GRACE_MS = 2000;

/** Whether keys pressed in `el` are the officer's text (fields, drop-downs, editable areas). */
export function isEditable(el: EventTarget | null): boolean {
  if (!el || typeof (el as HTMLElement).tagName !== 'string') return false;
  const node = el as HTMLElement;
  const tag = node.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || node.isContentEditable === true;
}

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  repeat: boolean;
}

/** A key that would type a character (a letter, digit, punctuation or space). */
export function isPrintable(e: KeyLike): boolean {
  return e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey;
}

export class TypingGuard {
  private lastTypingAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A keystroke or input in a field, or a field losing focus. */
  typed(): void {
    this.lastTypingAt = this.now();
  }

  /**
   * Whether a key that reached the page must be ignored as part of the officer's typing.
   * A held key's repeats are never shortcuts either.
   */
  swallows(e: KeyLike): boolean {
    if (!isPrintable(e)) return false;
    if (e.repeat) return true;
    if (this.now() - this.lastTypingAt < TYPING_GRACE_MS) {
      this.typed();
      return true;
    }
    return false;
  }
}

/** What "A" does, given what is on screen. */
export type AcknowledgeKey =
  /** The request in the detail panel is new: acknowledge exactly that one. */
  | { kind: 'acknowledge'; id: string }
  /** Nothing is open: open the oldest unacknowledged SOS so the officer sees it first. */
  | { kind: 'open'; id: string }
  /** The request on screen is already acknowledged (or nothing needs it). */
  | { kind: 'nothing'; reason: 'not_new' | 'none' };

export interface OnScreen {
  selectedId: string | null;
  /** The request the detail panel shows (it may still be loading another one). */
  detail: { id: string; status: string } | null;
  oldestUnacknowledged: { id: string } | null;
}

/**
 * "A" acknowledges only the request the officer is looking at. With nothing open it opens
 * the oldest unacknowledged SOS instead: an acknowledgement tells every other desk
 * "someone has this", so it must never land on a request nobody read.
 */
export function acknowledgeKey(s: OnScreen): AcknowledgeKey {
  const shown = s.detail && s.selectedId !== null && s.detail.id === s.selectedId ? s.detail : null;
  if (shown) {
    return shown.status === 'new' ? { kind: 'acknowledge', id: shown.id } : { kind: 'nothing', reason: 'not_new' };
  }
  if (s.selectedId !== null) return { kind: 'nothing', reason: 'none' }; // still loading: wait for it
  if (s.oldestUnacknowledged) return { kind: 'open', id: s.oldestUnacknowledged.id };
  return { kind: 'nothing', reason: 'none' };
}
