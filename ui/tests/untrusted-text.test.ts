// Citizen text is untrusted input that reaches a web view: it must be shown as text.
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import QueueItem from '../src/components/QueueItem.svelte';
import Thread from '../src/components/Thread.svelte';
import type { Backend } from '../src/ipc/backend';
import type { QueueRow, ThreadDto } from '../src/ipc/bindings';
import { setBackend } from '../src/state/desk.svelte';

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
      unread: 2,
      waiting_since: Date.now() - 60_000,
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

  it('a thread shows the citizen\'s and the officer\'s words as text and runs nothing', async () => {
    const thread: ThreadDto = {
      messages: [
        { id: 'c-1', direction: 'in', kind: 'text', text: HOSTILE, template: null, author: null, delivery: 'received', failure: null, created_at: Date.now(), position: null, media: null },
        { id: 'm-1', direction: 'out', kind: 'text', text: 'ok', template: null, author: HOSTILE, delivery: 'failed', failure: HOSTILE, created_at: Date.now(), position: null, media: null },
      ],
    };
    setBackend({ thread: async () => thread, messageTemplates: async () => [{ name: 'x', zh: HOSTILE, en: HOSTILE }] } as unknown as Backend);
    const target = document.createElement('div');
    document.body.appendChild(target);
    const app = mount(Thread, { target, props: { requestId: 'R-1', timeZone: 'Asia/Bangkok' } });
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(target.querySelectorAll('[data-testid="message"]').length).toBe(2);
    expect(target.querySelectorAll('img').length).toBe(0);
    expect(target.querySelectorAll('script').length).toBe(0);
    expect(target.querySelector('[data-testid="message-text"]')?.textContent).toBe(HOSTILE);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    unmount(app);
  });

  it('a photo\'s name is text, and the only picture shown is the desk\'s own re-encoding', async () => {
    const thread: ThreadDto = {
      messages: [
        {
          id: 'c-2', direction: 'in', kind: 'image', text: HOSTILE, template: null, author: null, delivery: 'received', failure: null,
          created_at: Date.now(), position: null, media: { media_type: 'image/jpeg', size_bytes: 12000, name: HOSTILE },
        },
      ],
    };
    const opened = { scheme: 'lifeline-media', path: 'preview/ab', media_type: 'image/jpeg', size_bytes: 12000, gps: [41.0, 29.0] };
    setBackend({
      thread: async () => thread,
      messageTemplates: async () => [],
      openMedia: async () => opened,
      mediaUrl: () => 'lifeline-media://localhost/preview/ab',
    } as unknown as Backend);
    const target = document.createElement('div');
    document.body.appendChild(target);
    const app = mount(Thread, { target, props: { requestId: 'R-2', timeZone: null } });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 0));
      flushSync();
    }
    const images = [...target.querySelectorAll('img')];
    expect(images.map((i) => i.getAttribute('src'))).toEqual(['lifeline-media://localhost/preview/ab']);
    expect(images[0].getAttribute('alt')).toBe(HOSTILE);
    expect(target.querySelector('[data-testid="media-name"]')?.textContent).toBe(HOSTILE);
    expect(target.querySelectorAll('[data-testid="media-gps"]').length).toBe(1);
    expect(target.querySelectorAll('script').length).toBe(0);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    unmount(app);
  });
});
