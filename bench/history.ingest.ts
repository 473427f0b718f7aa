import type { IngestResult, ScanStore } from '../src/adapters/store/scan.store';
import { DEFAULT_CONTROL_SETTINGS, evaluateNoAccessKeysAtSetup } from '../src/controls/no-access-keys-at-setup/control';
import type { AccountInventory } from '../src/domain/inventory';

export interface Ingested {
  at: Date;
  evaluateMs: number;
  ingestMs: number;
  result: IngestResult;
}

/** One synthetic scan stored as a worker stores it: evaluate, then startScan + completeScan (timed apart). */
export async function ingest(store: ScanStore, inventory: AccountInventory): Promise<Ingested> {
  let t = performance.now();
  const findings = evaluateNoAccessKeysAtSetup(inventory, { now: inventory.collectedAt, settings: DEFAULT_CONTROL_SETTINGS });
  const evaluateMs = performance.now() - t;
  t = performance.now();
  const startedAt = new Date(inventory.collectedAt.getTime() - 20_000);
  const scanId = await store.startScan(inventory.source, startedAt, { ...DEFAULT_CONTROL_SETTINGS, mode: inventory.source, concurrency: 16 });
  const finishedAt = new Date(inventory.collectedAt.getTime() + 5_000);
  const result = await store.completeScan({ scanId, inventory, findings, status: 'COMPLETED', iamCalls: {}, finishedAt });
  return { at: inventory.collectedAt, evaluateMs, ingestMs: performance.now() - t, result };
}
