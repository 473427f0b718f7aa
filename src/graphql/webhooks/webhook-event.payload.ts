import type { PrismaClient } from '../../generated/prisma/client';
import type { OutboxEvent } from '../../adapters/webhooks/webhook.store';
import { FindingsService, type FindingView } from '../../services/findings.service';
import { RemediationActionsService } from '../../services/remediation-actions.service';
import { ScansService } from '../../services/scans.service';
import { toGlobalId } from '../common/node';
import { toFinding } from '../findings/finding.mapper';
import { toRemediationAction } from '../remediation/remediation.mapper';
import { toScan } from '../scans/scan.mapper';

/**
 * The body of a webhook message, per the Standard Webhooks payload structure: `type`, `timestamp` (when the
 * change was committed) and `data`: the account, the finding (or scan, or remediation action) with the fields
 * the GraphQL type has, through the same mappers the resolvers use (ids are the API's global ids, objects
 * behind a field resolver appear as `{ id }`), and `change`, what the change log recorded of the transition.
 */
export function webhookPayloads(prisma: PrismaClient): (events: OutboxEvent[]) => Promise<unknown[]> {
  const findings = new FindingsService(prisma);
  const scans = new ScansService(prisma);
  const actions = new RemediationActionsService(prisma);
  return async (events) => {
    const ids = (pick: (e: OutboxEvent) => string | null) => [...new Set(events.map(pick).filter((id): id is string => id !== null))];
    const findingIds = ids((e) => (e.type.startsWith('finding.') ? e.findingId : null));
    const scanIds = ids((e) => (e.type.startsWith('scan.') ? e.scanId : null));
    const actionIds = ids((e) => e.remediationActionId);
    const [findingRows, scanRows, actionRows] = await Promise.all([
      findingIds.length ? findings.byIds(findingIds) : [],
      scanIds.length ? scans.byIds(scanIds) : [],
      actionIds.length ? actions.byIds(actionIds) : [],
    ]);
    const byId = <T>(keys: string[], rows: (T | null)[]) => new Map(keys.map((k, i) => [k, rows[i] ?? null]));
    const findingOf = byId(findingIds, findingRows);
    const scanOf = byId(scanIds, scanRows);
    const actionOf = byId(actionIds, actionRows);
    return events.map((e) => {
      const data: Record<string, unknown> = { accountId: e.accountId };
      if (e.scanId) data.scanId = toGlobalId('Scan', e.scanId);
      if (e.type.startsWith('finding.') && e.findingId) {
        const view = findingOf.get(e.findingId);
        if (view) {
          // The view's internal fields (row id, identity) are not the API's; its scan is a field resolver there.
          const { localId: _localId, identity: _identity, scanId, ...finding } = toFinding(view) as ReturnType<typeof toFinding> & Partial<FindingView>;
          data.finding = { ...finding, scan: { id: toGlobalId('Scan', scanId) } };
        } else data.finding = { id: toGlobalId('Finding', e.findingId) };
      }
      if (e.type.startsWith('scan.') && e.scanId) {
        const row = scanOf.get(e.scanId);
        data.scan = row ? toScan(row) : { id: toGlobalId('Scan', e.scanId) };
      }
      if (e.remediationActionId) {
        const row = actionOf.get(e.remediationActionId);
        if (row) {
          const { findingLocalId, ...action } = toRemediationAction(row);
          data.action = { ...action, finding: findingLocalId ? { id: toGlobalId('Finding', findingLocalId) } : null };
        } else data.action = { id: toGlobalId('RemediationAction', e.remediationActionId) };
      }
      data.change = e.payload;
      return { type: e.type, timestamp: e.occurredAt.toISOString(), data };
    });
  };
}
