// The "A" key and the typing guard: an acknowledgement must only ever land on the request on
// screen, and letters typed into a field that lost focus must never act as shortcuts.
import { describe, expect, it } from 'vitest';
import { TYPING_GRACE_MS, TypingGuard, acknowledgeKey, isEditable } from '../src/lib/shortcuts';

const key = (k: string, extra: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, repeat: false, ...extra });

describe('acknowledge key', () => {
  const oldest = { id: 'SOS-1' };
  it('with nothing open, opens the oldest unacknowledged SOS and acknowledges nothing', () => {
    expect(acknowledgeKey({ selectedId: null, detail: null, oldestUnacknowledged: oldest })).toEqual({ kind: 'open', id: 'SOS-1' });
  });
  it('acknowledges the request on screen, not the oldest', () => {
    expect(
      acknowledgeKey({ selectedId: 'R-9', detail: { id: 'R-9', status: 'new' }, oldestUnacknowledged: oldest }),
    ).toEqual({ kind: 'acknowledge', id: 'R-9' });
  });
  it('does nothing while the detail still shows another request', () => {
    expect(
      acknowledgeKey({ selectedId: 'R-9', detail: { id: 'R-8', status: 'new' }, oldestUnacknowledged: oldest }),
    ).toEqual({ kind: 'nothing', reason: 'none' });
  });
  it('does nothing to a request already acknowledged', () => {
    expect(
      acknowledgeKey({ selectedId: 'R-9', detail: { id: 'R-9', status: 'acknowledged' }, oldestUnacknowledged: oldest }),
    ).toEqual({ kind: 'nothing', reason: 'not_new' });
  });
  it('with nothing open and nothing unacknowledged, does nothing', () => {
    expect(acknowledgeKey({ selectedId: null, detail: null, oldestUnacknowledged: null })).toEqual({ kind: 'nothing', reason: 'none' });
  });
});

describe('typing guard', () => {
  it('swallows letters typed right after a field lost focus, for as long as typing goes on', () => {
    let now = 1000;
    const guard = new TypingGuard(() => now);
    guard.typed(); // the note box closed mid-word
    for (let i = 0; i < 20; i++) {
      now += 300; // 20 letters, 6 s in all: each keeps the guard up
      expect(guard.swallows(key('a'))).toBe(true);
    }
    now += TYPING_GRACE_MS + 1; // a real pause
    expect(guard.swallows(key('a'))).toBe(false);
  });
  it('lets shortcuts through when nobody has typed', () => {
    const guard = new TypingGuard(() => 5000);
    expect(guard.swallows(key('a'))).toBe(false);
  });
  it('never takes a held key as a shortcut', () => {
    const guard = new TypingGuard(() => 5000);
    expect(guard.swallows(key('a', { repeat: true }))).toBe(true);
  });
  it('leaves arrows and modified keys alone', () => {
    let now = 0;
    const guard = new TypingGuard(() => now);
    guard.typed();
    now = 10;
    expect(guard.swallows(key('ArrowDown'))).toBe(false);
    expect(guard.swallows(key('a', { ctrlKey: true }))).toBe(false);
  });
  it('knows fields, drop-downs and editable areas', () => {
    for (const tag of ['input', 'textarea', 'select']) expect(isEditable(document.createElement(tag))).toBe(true);
    expect(isEditable(document.createElement('button'))).toBe(false);
    expect(isEditable(document.body)).toBe(false);
    expect(isEditable(null)).toBe(false);
  });
});
