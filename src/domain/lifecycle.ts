/**
 * A finding's lifecycle, as pure rules (the README's History section has them as a table). A finding is
 * OPEN while it fails (or cannot be read, which needs attention just the same), RESOLVED once an open
 * period ended (or an exception covers it), and NEVER_FAILED while it has never needed attention: a
 * finding that never failed was never "resolved". Failing again after a resolution reopens the same
 * finding (same identity) and counts a reopen.
 */
import type { ComplianceStatus } from './finding';

export const FINDING_STATES = ['OPEN', 'RESOLVED', 'NEVER_FAILED'] as const;
export type FindingState = (typeof FINDING_STATES)[number];
export const RESOLUTIONS = ['PASSED', 'KEY_DELETED', 'USER_DELETED', 'NO_LONGER_APPLICABLE', 'REMEDIATED', 'EXCEPTED'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** What a transition is called in the change log (findingChanges, webhooks): one per transition. */
export const FINDING_EVENTS = ['finding.opened', 'finding.resolved', 'finding.reopened', 'finding.excepted', 'finding.unexcepted'] as const;
export type FindingEvent = (typeof FINDING_EVENTS)[number];

export interface Lifecycle {
  state: FindingState;
  /** When the current (or last) open period began; null for a finding never opened. */
  openedAt: Date | null;
  /** When the last open period ended (or an exception first covered it); null while open, and for a finding that never failed. */
  resolvedAt: Date | null;
  resolution: Resolution | null;
  reopenCount: number;
}

export interface Transition {
  lifecycle: Lifecycle;
  /** An open period began (opened, reopened or unexcepted): trends count it. */
  opened: boolean;
  /** An open period ended: trends count it and its duration. */
  resolved: boolean;
  /** Open-to-resolved time, when this transition resolved the finding. */
  resolveSeconds: number | null;
  /** The change-log event of this transition; null when the lifecycle did not change. */
  event: FindingEvent | null;
}

const needsAttention = (status: ComplianceStatus) => status === 'FAIL' || status === 'ERROR';

/**
 * The finding was evaluated at `at` with `status`. `resolution` says why a passing result resolves it:
 * PASSED after a scan, REMEDIATED right after Keywarden fixed it; an exception resolves as EXCEPTED.
 */
export function observe(prev: Lifecycle | null, status: ComplianceStatus, at: Date, resolution: Resolution = 'PASSED'): Transition {
  if (needsAttention(status)) {
    if (prev?.state === 'OPEN') return unchanged(prev);
    const everOpened = prev?.openedAt != null;
    // A finding an exception had resolved fails again: the exception ended, was revoked, or no longer covers it.
    const event: FindingEvent = prev?.resolution === 'EXCEPTED' ? 'finding.unexcepted' : everOpened ? 'finding.reopened' : 'finding.opened';
    return {
      lifecycle: { state: 'OPEN', openedAt: at, resolvedAt: null, resolution: null, reopenCount: (prev?.reopenCount ?? 0) + (everOpened ? 1 : 0) },
      opened: true,
      resolved: false,
      resolveSeconds: null,
      event,
    };
  }
  if (status === 'EXCEPTED') {
    if (prev?.state === 'OPEN') return resolve(prev, 'EXCEPTED', at);
    // It fails, but an exception covered it from the first time it did: resolved as EXCEPTED, never opened.
    if (prev === null || prev.state === 'NEVER_FAILED') {
      return { lifecycle: { state: 'RESOLVED', openedAt: null, resolvedAt: at, resolution: 'EXCEPTED', reopenCount: 0 }, opened: false, resolved: false, resolveSeconds: null, event: 'finding.excepted' };
    }
    return unchanged(prev);
  }
  if (prev === null) return { lifecycle: NEVER_FAILED, opened: false, resolved: false, resolveSeconds: null, event: null };
  // It passes now: the exception no longer decides anything, the check does. Otherwise the finding would read
  // "excepted" (SUPPRESSED in Security Hub) for ever after its key was fixed.
  if (prev.resolution === 'EXCEPTED') return exceptionOutlived(prev, resolution);
  if (prev.state !== 'OPEN') return unchanged(prev);
  return resolve(prev, resolution, at);
}

/**
 * The finding's key or user is gone, or the finding no longer applies: an open finding resolves. A resolved
 * one keeps its resolution (or takes this one if it had none); one that never failed stays NEVER_FAILED.
 */
export function disappear(prev: Lifecycle, resolution: Resolution, at: Date): Transition {
  if (prev.state === 'OPEN') return resolve(prev, resolution, at);
  if (prev.state === 'NEVER_FAILED') return unchanged(prev);
  if (prev.resolution === 'EXCEPTED') return exceptionOutlived(prev, resolution);
  return { lifecycle: { ...prev, resolution: prev.resolution ?? resolution }, opened: false, resolved: false, resolveSeconds: null, event: null };
}

const NEVER_FAILED: Lifecycle = { state: 'NEVER_FAILED', openedAt: null, resolvedAt: null, resolution: null, reopenCount: 0 };

function resolve(prev: Lifecycle, resolution: Resolution, at: Date): Transition {
  return {
    lifecycle: { ...prev, state: 'RESOLVED', resolvedAt: at, resolution },
    opened: false,
    resolved: true,
    resolveSeconds: prev.openedAt ? (at.getTime() - prev.openedAt.getTime()) / 1000 : 0,
    event: resolution === 'EXCEPTED' ? 'finding.excepted' : 'finding.resolved',
  };
}

/**
 * A finding an exception resolved no longer fails (or its key or user is gone): still RESOLVED, now for that
 * reason, and a `finding.resolved` in the change log so that consumers (Security Hub, webhooks) stop showing it
 * as suppressed. Not a new resolution for trends: its open period ended when the exception took it.
 */
function exceptionOutlived(prev: Lifecycle, resolution: Resolution): Transition {
  return { lifecycle: { ...prev, state: 'RESOLVED', resolution }, opened: false, resolved: false, resolveSeconds: null, event: 'finding.resolved' };
}

function unchanged(prev: Lifecycle): Transition {
  return { lifecycle: prev, opened: false, resolved: false, resolveSeconds: null, event: null };
}
