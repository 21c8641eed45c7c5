// Regression: bidirectional control characters in citizen text could make a field read as
// something else; the detail shows them as what they are.
import { describe, expect, it } from 'vitest';
import { showControls } from '../src/lib/bidi';

describe('bidirectional controls', () => {
  it('shows every override, embedding, isolate and mark', () => {
    expect(showControls('photo\u202Egpj.exe')).toBe('photo⟦U+202E⟧gpj.exe');
    expect(showControls('\u2066a\u2069\u200F\u061C')).toBe('⟦U+2066⟧a⟦U+2069⟧⟦U+200F⟧⟦U+061C⟧');
  });
  it('leaves ordinary text in any script alone', () => {
    for (const t of ['王伟', 'محمد', 'Иван', 'plain text', '']) expect(showControls(t)).toBe(t);
  });
});
