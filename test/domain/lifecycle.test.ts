import { disappear, observe, type Lifecycle } from '../../src/domain/lifecycle';

/** The lifecycle table of the README (History): state × what a scan observes → new state and change-log event. */
const T0 = new Date('2026-11-01T00:00:00Z');
const T1 = new Date('2026-11-02T00:00:00Z');

const open: Lifecycle = { state: 'OPEN', openedAt: T0, resolvedAt: null, resolution: null, reopenCount: 0 };
const resolved: Lifecycle = { state: 'RESOLVED', openedAt: T0, resolvedAt: T0, resolution: 'PASSED', reopenCount: 0 };
const excepted: Lifecycle = { state: 'RESOLVED', openedAt: T0, resolvedAt: T0, resolution: 'EXCEPTED', reopenCount: 0 };
const neverFailed: Lifecycle = { state: 'NEVER_FAILED', openedAt: null, resolvedAt: null, resolution: null, reopenCount: 0 };

const row = (t: ReturnType<typeof observe>) => [t.lifecycle.state, t.lifecycle.resolution, t.event, t.lifecycle.reopenCount];

describe('the finding lifecycle', () => {
  it('a finding first seen passing, or not applicable, never failed: it is not RESOLVED and has no event', () => {
    expect(row(observe(null, 'PASS', T1))).toEqual(['NEVER_FAILED', null, null, 0]);
    expect(row(observe(null, 'NOT_APPLICABLE', T1))).toEqual(['NEVER_FAILED', null, null, 0]);
    expect(row(observe(neverFailed, 'PASS', T1))).toEqual(['NEVER_FAILED', null, null, 0]);
    expect(observe(neverFailed, 'PASS', T1).lifecycle.resolvedAt).toBeNull();
  });

  it('failing (or unreadable) opens it; failing again after a resolution reopens it and counts the reopen', () => {
    expect(row(observe(null, 'FAIL', T1))).toEqual(['OPEN', null, 'finding.opened', 0]);
    expect(row(observe(neverFailed, 'ERROR', T1))).toEqual(['OPEN', null, 'finding.opened', 0]);
    expect(row(observe(open, 'FAIL', T1))).toEqual(['OPEN', null, null, 0]);
    expect(row(observe(resolved, 'FAIL', T1))).toEqual(['OPEN', null, 'finding.reopened', 1]);
  });

  it('passing resolves an open finding with the resolution given; a resolved one stays as it is', () => {
    const t = observe(open, 'PASS', T1, 'REMEDIATED');
    expect(row(t)).toEqual(['RESOLVED', 'REMEDIATED', 'finding.resolved', 0]);
    expect([t.resolved, t.resolveSeconds, t.lifecycle.resolvedAt]).toEqual([true, 86_400, T1]);
    expect(row(observe(resolved, 'PASS', T1))).toEqual(['RESOLVED', 'PASSED', null, 0]);
  });

  it('an exception resolves a failing finding as EXCEPTED, even one never opened; failing once it ends is finding.unexcepted', () => {
    expect(row(observe(open, 'EXCEPTED', T1))).toEqual(['RESOLVED', 'EXCEPTED', 'finding.excepted', 0]);
    const fresh = observe(null, 'EXCEPTED', T1);
    expect(row(fresh)).toEqual(['RESOLVED', 'EXCEPTED', 'finding.excepted', 0]);
    expect([fresh.opened, fresh.resolved, fresh.lifecycle.openedAt, fresh.lifecycle.resolvedAt]).toEqual([false, false, null, T1]);
    expect(row(observe(neverFailed, 'EXCEPTED', T1))).toEqual(['RESOLVED', 'EXCEPTED', 'finding.excepted', 0]);
    expect(row(observe(excepted, 'FAIL', T1))).toEqual(['OPEN', null, 'finding.unexcepted', 1]);
    // Excepted from the start, then the exception ends: it opens for the first time (no reopen counted).
    expect(row(observe(fresh.lifecycle, 'FAIL', T1))).toEqual(['OPEN', null, 'finding.unexcepted', 0]);
    // Already resolved (it passed) when an exception began covering it: no transition.
    expect(row(observe(resolved, 'EXCEPTED', T1))).toEqual(['RESOLVED', 'PASSED', null, 0]);
  });

  it('a gone key or user resolves an open finding; a resolved one keeps its resolution; one that never failed stays NEVER_FAILED', () => {
    expect(row(disappear(open, 'KEY_DELETED', T1))).toEqual(['RESOLVED', 'KEY_DELETED', 'finding.resolved', 0]);
    expect(row(disappear(resolved, 'USER_DELETED', T1))).toEqual(['RESOLVED', 'PASSED', null, 0]);
    expect(row(disappear(neverFailed, 'KEY_DELETED', T1))).toEqual(['NEVER_FAILED', null, null, 0]);
  });

  it('an excepted finding that passes, or whose key is gone, is resolved for that reason: the exception no longer decides it (finding.resolved)', () => {
    expect(row(observe(excepted, 'PASS', T1))).toEqual(['RESOLVED', 'PASSED', 'finding.resolved', 0]);
    expect(row(observe(excepted, 'PASS', T1, 'REMEDIATED'))).toEqual(['RESOLVED', 'REMEDIATED', 'finding.resolved', 0]);
    expect(row(disappear(excepted, 'KEY_DELETED', T1))).toEqual(['RESOLVED', 'KEY_DELETED', 'finding.resolved', 0]);
    // Not a second resolution for trends: the open period ended when the exception took it.
    expect(observe(excepted, 'PASS', T1)).toMatchObject({ opened: false, resolved: false, resolveSeconds: null });
    expect(observe(excepted, 'PASS', T1).lifecycle.resolvedAt).toEqual(T0);
    // Still excepted while the check fails and the exception covers it.
    expect(row(observe(excepted, 'EXCEPTED', T1))).toEqual(['RESOLVED', 'EXCEPTED', null, 0]);
  });
});
