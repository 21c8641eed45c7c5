import { describe, expect, it } from 'vitest';
import { countryName } from '../src/lib/countries';

describe('country names', () => {
  it('names a code in the officer language', () => {
    expect(countryName('TR', 'zh')).toBe('土耳其');
    expect(countryName('TH', 'en')).toBe('Thailand');
    expect(countryName('th', 'zh')).toBe('泰国');
  });
  it('keeps a code it does not know', () => {
    expect(countryName('XX', 'en')).toBe('XX');
  });
});
