// Citizen text is untrusted input that reaches a web view: it must be shown as text.
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import QueueItem from '../src/components/QueueItem.svelte';
import type { QueueRow } from '../src/ipc/bindings';

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

describe('untrusted text', () => {
  it('a queue row shows markup as text and runs nothing', () => {
    const row: QueueRow = {
      id: 'R-1',
      created_at: Date.now(),
      emergency: true,
      priority: 'critical',
      status: 'new',
      category: 'medical',
      channel: 'app',
      people_count: 1,
      name: HOSTILE,
      excerpt: HOSTILE,
      place: HOSTILE,
      country: 'TH',
      assignee: null,
      local_state: 'synced',
      claimed_by: [HOSTILE],
      advisories: 0,
      language: null,
      interpreter: false,
    };
    const target = document.createElement('div');
    document.body.appendChild(target);
    const app = mount(QueueItem, { target, props: { row, selected: false, now: Date.now(), height: 88, onselect: () => {} } });
    flushSync();
    expect(target.querySelectorAll('img').length).toBe(0);
    expect(target.querySelectorAll('script').length).toBe(0);
    expect(target.querySelector('[data-testid="queue-excerpt"]')?.textContent).toBe(HOSTILE);
    expect(target.textContent).toContain('<img src=x');
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    unmount(app);
  });
});
