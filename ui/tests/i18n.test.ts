import { describe, expect, it } from 'vitest';
import { messages } from '../src/i18n/messages';
import { i18n, setLanguage, t, word } from '../src/i18n/index.svelte';

describe('languages', () => {
  it('every message has the same placeholders in Chinese and English', () => {
    for (const key of Object.keys(messages.en) as (keyof typeof messages.en)[]) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(messages.zh[key]), key).toEqual(names(messages.en[key]));
      expect(messages.zh[key].length, key).toBeGreaterThan(0);
    }
  });

  it('switches at run time', () => {
    setLanguage('en');
    expect(t('tabQueue')).toBe('Queue');
    expect(word('status', 'in_progress')).toBe('in progress');
    setLanguage('zh');
    expect(i18n.language).toBe('zh');
    expect(t('tabQueue')).toBe('求助队列');
    expect(t('people', { n: 3 })).toBe('3 人');
    expect(word('category', 'unknown_word')).toBe('unknown_word');
  });
});
