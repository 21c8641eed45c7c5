import { describe, expect, it } from 'vitest';
import { triageKey } from '../src/lib/triageKeys';

const acknowledged = { status: 'acknowledged', priority: 'normal', next_statuses: ['acknowledged', 'in_progress', 'resolved', 'closed'] };

describe('triage keys', () => {
  it('act on the request on screen only', () => {
    expect(triageKey('m', null)).toEqual({ kind: 'none' });
    expect(triageKey('m', acknowledged)).toEqual({ kind: 'act', action: { action: 'assign_to_me' } });
  });
  it('set a priority, but not the one it has', () => {
    expect(triageKey('2', acknowledged)).toEqual({ kind: 'act', action: { action: 'set_priority', priority: 'high' } });
    expect(triageKey('3', acknowledged)).toEqual({ kind: 'none' });
  });
  it('move the status only where the protocol allows', () => {
    expect(triageKey('r', acknowledged)).toEqual({ kind: 'act', action: { action: 'set_status', status: 'resolved' } });
    const closed = { status: 'closed', priority: 'normal', next_statuses: ['closed', 'acknowledged', 'in_progress'] };
    expect(triageKey('r', closed)).toEqual({ kind: 'none' });
    expect(triageKey('I', closed)).toEqual({ kind: 'act', action: { action: 'set_status', status: 'in_progress' } });
  });
  it('open the forms', () => {
    expect(triageKey('n', acknowledged)).toEqual({ kind: 'focus', target: 'note' });
    expect(triageKey('d', acknowledged)).toEqual({ kind: 'focus', target: 'duplicate' });
  });
});
