// The triage keys: every action on the request on screen, from the keyboard. Pure: which
// key means what, given the request shown. `App.svelte` calls it after the typing guard
// (letters typed into a field are never shortcuts) and carries the action out.
import type { ActionDto, RequestDetail } from '../ipc/bindings';

export type TriageKey =
  | { kind: 'act'; action: ActionDto }
  | { kind: 'focus'; target: 'note' | 'status' | 'duplicate' }
  | { kind: 'none' };

const PRIORITY_KEYS: Record<string, string> = { '1': 'critical', '2': 'high', '3': 'normal', '4': 'low' };
const STATUS_KEYS: Record<string, string> = { i: 'in_progress', r: 'resolved', c: 'closed' };

/** The shortcut sheet: each key, and the message key of what it does. */
export const SHEET: [string, string][] = [
  ['j / ↓', 'keyNext'],
  ['k / ↑', 'keyPrevious'],
  ['/', 'keySearch'],
  ['a', 'keyAcknowledge'],
  ['m', 'keyAssignToMe'],
  ['1 2 3 4', 'keyPriority'],
  ['i / r / c', 'keyStatus'],
  ['s', 'keyStatusMenu'],
  ['d', 'keyDuplicate'],
  ['n', 'keyNote'],
  ['x', 'keySelect'],
  ['Shift+click', 'keySelectCluster'],
  ['Ctrl+Enter', 'keySendNote'],
  ['Esc', 'keyEscape'],
  ['?', 'keySheet'],
];

/** What `key` does to the request on screen (`detail`), if anything. */
export function triageKey(key: string, detail: Pick<RequestDetail, 'next_statuses' | 'status' | 'priority'> | null): TriageKey {
  if (!detail) return { kind: 'none' };
  const k = key.length === 1 ? key.toLowerCase() : key;
  if (k === 'm') return { kind: 'act', action: { action: 'assign_to_me' } };
  if (k in PRIORITY_KEYS) {
    const priority = PRIORITY_KEYS[k];
    return priority === detail.priority ? { kind: 'none' } : { kind: 'act', action: { action: 'set_priority', priority } };
  }
  if (k in STATUS_KEYS) {
    const status = STATUS_KEYS[k];
    // Only a move the protocol allows from here.
    return status !== detail.status && detail.next_statuses.includes(status) ? { kind: 'act', action: { action: 'set_status', status } } : { kind: 'none' };
  }
  if (k === 'n') return { kind: 'focus', target: 'note' };
  if (k === 's') return { kind: 'focus', target: 'status' };
  if (k === 'd') return { kind: 'focus', target: 'duplicate' };
  return { kind: 'none' };
}
