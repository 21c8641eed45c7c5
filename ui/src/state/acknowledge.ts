// Acknowledging, from the key, the banner or the detail panel, and taking it back. Every
// acknowledgement names what it acknowledged on screen, with an undo while the action is
// still in the outbox (it has not reached the hub, so no other desk has seen it yet).
import { failureOf } from '../ipc/backend';
import type { RequestDetail } from '../ipc/bindings';
import { errorText, t, word } from '../i18n/index.svelte';
import { backend, desk, showError } from './desk.svelte';

/** "SOS · Medical" / "Normal · Lost documents": how the toast names a request. */
export function describeRequest(d: Pick<RequestDetail, 'emergency' | 'priority' | 'category'>): string {
  const kind = d.emergency ? t('sos') : word('priority', d.priority);
  return d.category ? `${kind} · ${word('category', d.category)}` : kind;
}

export async function acknowledge(id: string): Promise<void> {
  try {
    const detail = await backend().act(id, { action: 'acknowledge' });
    if (desk.selectedId === id) desk.detail = detail;
    const queued = [...detail.outbox].reverse().find((o) => o.action === 'acknowledge' && o.state === 'pending');
    desk.lastAction = { kind: 'acknowledged', requestId: id, key: queued?.key ?? null, what: { emergency: detail.emergency, priority: detail.priority, category: detail.category }, at: Date.now() };
  } catch (e) {
    showError(errorText(failureOf(e)));
  }
}

/** Undo of the last acknowledgement; says so plainly when the hub already has it. */
export async function undoAcknowledge(): Promise<void> {
  const last = desk.lastAction;
  if (!last || last.kind !== 'acknowledged' || !last.key) return;
  try {
    const detail = await backend().withdrawAction(last.requestId, last.key);
    if (desk.selectedId === last.requestId) desk.detail = detail;
    desk.lastAction = { kind: 'withdrawn', requestId: last.requestId, what: last.what, at: Date.now() };
  } catch (e) {
    const f = failureOf(e);
    if (f.code === 'already_sent') desk.lastAction = { kind: 'too_late', requestId: last.requestId, what: last.what, at: Date.now() };
    else showError(errorText(f));
  }
}
