import DataLoader from 'dataloader';
import type { AccessException, PrismaClient, RemediationAction } from '../generated/prisma/client';
import type { CountingIamClient } from '../adapters/iam/iam-client';
import { ScanStore } from '../adapters/store/scan.store';
import { AccountGuard } from '../services/account-guard';
import { ExceptionsService } from '../services/exceptions.service';
import { runFullScan } from '../services/full-scan';
import { RemediationActionsService } from '../services/remediation-actions.service';
import { RemediationService } from '../services/remediation.service';
import { RetentionService } from '../services/retention.service';
import { ScanQueue } from '../services/scan-queue';
import { ScanService, type ScanRequest, type ScanSummary } from '../services/scan.service';
import { tryLocalIdOf } from './common/node';
import type { Principal } from '../auth/scopes';
import { ComplianceSummaryService } from '../services/compliance-summary.service';
import { FindingsService, type FindingView } from '../services/findings.service';
import { IamUsersService, type AccessKeyView } from '../services/iam-users.service';
import type { UserInstant } from '../services/instants';
import { ScansService, type ScanView } from '../services/scans.service';
import { TrendsService } from '../services/trends.service';

export interface Services {
  findings: FindingsService;
  iamUsers: IamUsersService;
  scans: ScansService;
  trends: TrendsService;
  complianceSummary: ComplianceSummaryService;
  remediation: RemediationService;
  remediationActions: RemediationActionsService;
  exceptions: ExceptionsService;
  /** Runs a full scan of the account the server's IAM credentials read; concurrent callers wait in line. */
  startScan: () => Promise<ScanSummary>;
}

/** What remediation and scans need beyond the database: IAM, how to scan (and re-evaluate a user), retention. */
export interface RemediationSetup {
  iam: CountingIamClient;
  scanRequest: ScanRequest;
  recentUseDays: number;
  afterPending?: (actionId: string) => Promise<void>;
  /** Applied after each startScan, as after CLI scans (KEYWARDEN_RETENTION_DAYS; unset: nothing is pruned). */
  retentionDays?: number | null;
}

/** Per-request batching so a page of 100 users costs one query per field, not 100. */
export interface Loaders {
  scan: DataLoader<string, ScanView | null>;
  /** Per scan: the horizon that pruned part of its detail, or null (Scan.detailPruned, findings, iamUsers). */
  scanDetailPrunedBefore: DataLoader<string, Date | null>;
  finding: DataLoader<string, FindingView | null>;
  accessKeys: DataLoader<UserInstant, AccessKeyView[], string>;
  userFindings: DataLoader<UserInstant, FindingView[], string>;
  remediationAction: DataLoader<string, RemediationAction | null>;
  exception: DataLoader<string, AccessException | null>;
}

const userAtKey = (u: UserInstant) => `${u.accountId}/${u.userName}@${u.at.toISOString()}`;

export interface Context {
  services: Services;
  loaders: Loaders;
  /** Who is asking, as the audit trail names them (token id and name, or JWT subject). */
  actor: string;
  principal: Principal | null;
  requestId: string;
}

export function createServices(prisma: PrismaClient, setup: RemediationSetup): Services {
  const findings = new FindingsService(prisma);
  const scanService = new ScanService({ store: new ScanStore(prisma), iam: setup.iam });
  // One proof of the credentials' account for every mutation (one GetUser per process).
  const guard = new AccountGuard(setup.iam);
  const scans = new ScanQueue();
  const remediation = new RemediationService({
    prisma,
    iam: setup.iam,
    guard,
    scans: scanService,
    scanRequest: setup.scanRequest,
    recentUseDays: setup.recentUseDays,
    afterPending: setup.afterPending,
    findings: async (ids) => {
      const localIds = ids.map((id) => tryLocalIdOf('Finding', id));
      const rows = await findings.byIds(localIds.filter((id): id is string => id !== null));
      const byId = new Map(rows.filter((r) => r !== null).map((r) => [r!.localId, r!]));
      return localIds.map((id) => (id ? byId.get(id) ?? null : null));
    },
  });
  const scanReads = new ScansService(prisma);
  return {
    findings,
    iamUsers: new IamUsersService(prisma),
    scans: scanReads,
    trends: new TrendsService(prisma),
    complianceSummary: new ComplianceSummaryService(prisma, scanReads, findings),
    remediation,
    remediationActions: new RemediationActionsService(prisma),
    exceptions: new ExceptionsService({
      prisma,
      guard,
      reevaluate: async (accountId, userNames) => {
        await scanService.runForUsers(accountId, userNames, setup.scanRequest);
      },
    }),
    // One line per account: the server's credentials read one account (named by the fleet work later).
    startScan: () => scans.run('credentials', () => runFullScan({ scans: scanService, retention: new RetentionService(prisma), retentionDays: setup.retentionDays }, setup.scanRequest)),
  };
}

export function createContext(services: Services, actor: string, principal: Principal | null = null, requestId = 'none'): Context {
  return {
    services,
    actor,
    principal,
    requestId,
    loaders: {
      scan: new DataLoader((ids) => services.scans.byIds(ids)),
      scanDetailPrunedBefore: new DataLoader((ids) => services.scans.detailPrunedBefore(ids)),
      finding: new DataLoader((ids) => services.findings.byIds(ids)),
      accessKeys: new DataLoader((users) => services.iamUsers.accessKeysOf(users), { cacheKeyFn: userAtKey }),
      userFindings: new DataLoader((users) => services.findings.forUsers(users), { cacheKeyFn: userAtKey }),
      remediationAction: new DataLoader((ids) => services.remediationActions.byIds(ids)),
      exception: new DataLoader((ids) => services.exceptions.byIds(ids)),
    },
  };
}
