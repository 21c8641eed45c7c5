import { describe, expect, it } from 'vitest';
import { emptyFilter } from '../src/ipc/backend';
import { activeFilters } from '../src/lib/activeFilters';

const words = {
  emergency: 'Emergency',
  mine: 'Assigned to me',
  notOpen: 'closed too',
  since: (h: number) => `last ${h} h`,
  category: (c: string) => c.toUpperCase(),
  country: (c: string) => (c === 'TR' ? 'Türkiye' : c),
};

describe('active filters', () => {
  it('the default queue has none', () => {
    expect(activeFilters({ ...emptyFilter(), statuses: ['open'] }, words)).toEqual([]);
  });
  it('names each narrowing and removes it alone', () => {
    const f = { ...emptyFilter(), statuses: ['open'], emergency: true, countries: ['TR'], text: '护照' };
    const active = activeFilters(f, words);
    expect(active.map((a) => a.label)).toEqual(['“护照”', 'Emergency', 'Türkiye']);
    const withoutCountry = active[2].without;
    expect(withoutCountry.countries).toEqual([]);
    expect(withoutCountry.emergency).toBe(true);
    expect(withoutCountry.text).toBe('护照');
  });
});
