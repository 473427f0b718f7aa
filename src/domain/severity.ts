/**
 * A finding's severity, on the scale Security Hub (Severity.Label) and OCSF (severity_id) share. A result
 * that needs no action (PASS, NOT_APPLICABLE) is INFORMATIONAL, as Security Hub labels its own passed
 * control findings; a failing, unreadable or excepted one carries its control's severity (an exception
 * accepts the risk, it does not lower it).
 */
import type { ControlMetadata } from '../controls/no-access-keys-at-setup/control.metadata';
import type { ComplianceStatus } from './finding';

export const FINDING_SEVERITIES = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

const CONTROL_SEVERITY: Record<ControlMetadata['severity'], FindingSeverity> = { low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' };

export function findingSeverity(status: ComplianceStatus, control: Pick<ControlMetadata, 'severity'>): FindingSeverity {
  return status === 'PASS' || status === 'NOT_APPLICABLE' ? 'INFORMATIONAL' : CONTROL_SEVERITY[control.severity];
}
