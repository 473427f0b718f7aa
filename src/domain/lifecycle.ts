/**
 * A finding's lifecycle, as pure rules. A finding is OPEN while it fails (or cannot be read, which
 * needs attention just the same) and RESOLVED otherwise. Failing again after a resolution reopens
 * the same finding (same identity) and counts a reopen.
 */
import type { ComplianceStatus } from './finding';

export const FINDING_STATES = ['OPEN', 'RESOLVED'] as const;
export type FindingState = (typeof FINDING_STATES)[number];
export const RESOLUTIONS = ['PASSED', 'KEY_DELETED', 'USER_DELETED', 'NO_LONGER_APPLICABLE', 'REMEDIATED', 'EXCEPTED'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface Lifecycle {
  state: FindingState;
  /** When the current (or last) open period began. */
  openedAt: Date | null;
  /** When the last open period ended; null while open, and for a finding that never failed. */
  resolvedAt: Date | null;
  resolution: Resolution | null;
  reopenCount: number;
}

export interface Transition {
  lifecycle: Lifecycle;
  opened: boolean;
  resolved: boolean;
  /** Open-to-resolved time, when this transition resolved the finding. */
  resolveSeconds: number | null;
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
    return {
      lifecycle: { state: 'OPEN', openedAt: at, resolvedAt: null, resolution: null, reopenCount: (prev?.reopenCount ?? 0) + (everOpened ? 1 : 0) },
      opened: true,
      resolved: false,
      resolveSeconds: null,
    };
  }
  if (prev === null) return { lifecycle: { state: 'RESOLVED', openedAt: null, resolvedAt: null, resolution: null, reopenCount: 0 }, opened: false, resolved: false, resolveSeconds: null };
  if (prev.state === 'RESOLVED') return unchanged(prev);
  return resolve(prev, status === 'EXCEPTED' ? 'EXCEPTED' : resolution, at);
}

/** The finding's key or user is gone, or the finding no longer applies: an open finding resolves. */
export function disappear(prev: Lifecycle, resolution: Resolution, at: Date): Transition {
  if (prev.state === 'OPEN') return resolve(prev, resolution, at);
  return { lifecycle: { ...prev, resolution: prev.resolution ?? resolution }, opened: false, resolved: false, resolveSeconds: null };
}

function resolve(prev: Lifecycle, resolution: Resolution, at: Date): Transition {
  return {
    lifecycle: { ...prev, state: 'RESOLVED', resolvedAt: at, resolution },
    opened: false,
    resolved: true,
    resolveSeconds: prev.openedAt ? (at.getTime() - prev.openedAt.getTime()) / 1000 : 0,
  };
}

function unchanged(prev: Lifecycle): Transition {
  return { lifecycle: prev, opened: false, resolved: false, resolveSeconds: null };
}
