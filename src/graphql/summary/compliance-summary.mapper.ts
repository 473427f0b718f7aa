import { NO_ACCESS_KEYS_AT_SETUP } from '../../controls/no-access-keys-at-setup/control.metadata';
import type { ComplianceSummaryView } from '../../services/compliance-summary.service';
import { toControl } from '../controls/control.mapper';
import type { ComplianceSummary } from './compliance-summary.type';

export function toComplianceSummary(v: ComplianceSummaryView): ComplianceSummary {
  return {
    accountId: v.accountId,
    control: toControl(NO_ACCESS_KEYS_AT_SETUP),
    counts: v.counts,
    compliant: v.compliant,
    failingUsers: v.failingUsers,
    accounts: v.accounts,
    scannedAt: v.scannedAt,
    scanId: v.lastScan?.id ?? null,
    scanRow: v.scan,
  };
}
