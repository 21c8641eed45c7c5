// The emergency banner follows the interface language, including the latest alert it names.
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import Banner from '../src/components/Banner.svelte';
import { setLanguage } from '../src/i18n/index.svelte';
import { desk } from '../src/state/desk.svelte';

describe('emergency banner', () => {
  it('names the latest alert in the language the officer switched to', () => {
    setLanguage('zh');
    desk.openEmergencies = 1;
    desk.lastAlert = {
      kind: 'alert',
      request_id: 'R-1',
      title: { en: 'SOS · Crime victim · Bangkok, TH', zh: '紧急求助 · 遭受侵害 · 曼谷, TH' },
      body: { en: '1 people · robbed', zh: '1 人 · robbed' },
      level: 1,
      at: Date.now(),
    };
    const target = document.createElement('div');
    document.body.appendChild(target);
    const app = mount(Banner, { target, props: { onAcknowledge: () => {} } });
    flushSync();
    const latest = () => target.querySelector('[data-testid="banner-latest"]')?.textContent?.trim();
    expect(latest()).toBe('最新：紧急求助 · 遭受侵害 · 曼谷, TH');

    setLanguage('en');
    flushSync();
    expect(latest()).toBe('New: SOS · Crime victim · Bangkok, TH');
    unmount(app);
    target.remove();
  });
});
