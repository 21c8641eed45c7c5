// The bulk pick: ids from the queue and the map, capped, never twice.
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_SELECTION, clearSelection, isSelected, selectAll, selection, toggleSelected } from '../src/state/selection.svelte';

describe('bulk selection', () => {
  beforeEach(() => clearSelection());

  it('toggles a request in and out', () => {
    toggleSelected('R-1');
    toggleSelected('R-2');
    expect(selection.ids).toEqual(['R-1', 'R-2']);
    toggleSelected('R-1');
    expect(isSelected('R-1')).toBe(false);
    expect(selection.ids).toEqual(['R-2']);
  });

  it('adds a cluster without repeating what is picked and says what the cap left out', () => {
    toggleSelected('R-1');
    const ids = Array.from({ length: MAX_SELECTION + 10 }, (_, i) => `R-${i}`);
    const left = selectAll(ids);
    expect(selection.ids.length).toBe(MAX_SELECTION);
    expect(new Set(selection.ids).size).toBe(MAX_SELECTION);
    expect(left).toBe(ids.length - MAX_SELECTION);
  });

  it('clears only what was done, keeping refusals picked', () => {
    selectAll(['R-1', 'R-2', 'R-3']);
    clearSelection(['R-1', 'R-3']);
    expect(selection.ids).toEqual(['R-2']);
  });
});
