import DataLoader from 'dataloader';
import type { AccessException, PrismaClient, RemediationAction } from '../generated/prisma/client';
import type { AwsAccess } from '../adapters/aws/aws-access';
import { ScanStore } from '../adapters/store/scan.store';
import { AccountGuard } from '../services/account-guard';
import { AccountsService } from '../services/accounts.service';
import { ExceptionsService } from '../services/exceptions.service';
import { RemediationActionsService } from '../services/remediation-actions.service';
import { RemediationService } from '../services/remediation.service';
import type { ScanJobsService } from '../services/scan-jobs.service';
import { ScanService, type ScanRequest } from '../services/scan.service';
import { tryLocalIdOf } from './common/node';
import type { Principal } from '../auth/scopes';
import { ComplianceSummaryService } from '../services/compliance-summary.service';
import { FindingsService, type FindingView } from '../services/findings.service';
import { FindingChangesService } from '../services/finding-changes.service';
import { IamUsersService, type AccessKeyView } from '../services/iam-users.service';
import type { UserInstant } from '../services/instants';
import { ScansService, type ScanView } from '../services/scans.service';
import { TrendsService } from '../services/trends.service';
import { WebhooksService } from '../services/webhooks.service';
import type { SecretBox } from '../adapters/webhooks/secret-box';
import type { SsrfGuard } from '../adapters/webhooks/ssrf-guard';

export interface Services {
  accounts: AccountsService;
  findings: FindingsService;
  /** The change log's finding transitions (findingChanges, Scan.openedFindings/resolvedFindings). */
  findingChanges: FindingChangesService;
  iamUsers: IamUsersService;
  scans: ScansService;
  trends: TrendsService;
  complianceSummary: ComplianceSummaryService;
  remediation: RemediationService;
  remediationActions: RemediationActionsService;
  exceptions: ExceptionsService;
  /** Scans as queued jobs; null when this server has no queue (startScan then says so). */
  scanJobs: ScanJobsService | null;
  /** KEYWARDEN_SCAN_SCHEDULE and when it next fires. */
  scanSchedule: () => { cron: string | null; nextRunAt: Date | null };
  /** Webhook endpoints; null when this server was given no secret key (the webhook mutations then say so). */
  webhooks: WebhooksService | null;
}

/** What webhooks need: the key that seals their secrets, and the SSRF guard their URLs pass. */
export interface WebhookSetup {
  secrets: SecretBox;
  guard: SsrfGuard;
}

/** How scans are queued and scheduled (`keywarden serve`, `start` and the test stack wire a queue). */
export interface ScanSetup {
  jobs: ScanJobsService;
  schedule: () => { cron: string | null; nextRunAt: Date | null };
}

/** What remediation and scans need beyond the database: AWS, how to scan (and re-evaluate a user), retention. */
export interface RemediationSetup {
  /** The base credentials, endpoints and member role: IAM in each account goes through AccountsService.iamClientFor. */
  aws: AwsAccess;
  scanRequest: ScanRequest;
  recentUseDays: number;
  afterPending?: (actionId: string) => Promise<void>;
}

/** Per-request batching so a page of 100 users costs one query per field, not 100. */
export interface Loaders {
  scan: DataLoader<string, ScanView | null>;
  /** Per account id: its most recent scan, whatever its status (Account.lastScan). */
  accountLastScan: DataLoader<string, ScanView | null>;
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

export function createServices(prisma: PrismaClient, setup: RemediationSetup, scanSetup: ScanSetup | null = null, webhookSetup: WebhookSetup | null = null): Services {
  const findings = new FindingsService(prisma);
  // Plain scans read the base credentials' account (the queue's jobs read each account through its role).
  const scanService = new ScanService({ store: new ScanStore(prisma), iam: setup.aws.baseIamClient() });
  // One AccountsService per server: the base credentials' account is proven once per process (STS).
  const accounts = new AccountsService(prisma, setup.aws);
  const guard = new AccountGuard(accounts);
  const remediation = new RemediationService({
    prisma,
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
    accounts,
    findings,
    findingChanges: new FindingChangesService(prisma),
    iamUsers: new IamUsersService(prisma),
    scans: scanReads,
    trends: new TrendsService(prisma),
    complianceSummary: new ComplianceSummaryService(prisma, scanReads, findings),
    remediation,
    remediationActions: new RemediationActionsService(prisma),
    exceptions: new ExceptionsService({
      prisma,
      guard,
      reevaluate: async (accountId, userNames, iam) => {
        await scanService.runForUsers(accountId, userNames, setup.scanRequest, 'PASSED', iam);
      },
    }),
    scanJobs: scanSetup?.jobs ?? null,
    scanSchedule: scanSetup?.schedule ?? (() => ({ cron: null, nextRunAt: null })),
    webhooks: webhookSetup ? new WebhooksService(prisma, webhookSetup.secrets, webhookSetup.guard) : null,
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
      accountLastScan: new DataLoader((accountIds) => services.scans.latestOf(accountIds)),
      scanDetailPrunedBefore: new DataLoader((ids) => services.scans.detailPrunedBefore(ids)),
      finding: new DataLoader((ids) => services.findings.byIds(ids)),
      accessKeys: new DataLoader((users) => services.iamUsers.accessKeysOf(users), { cacheKeyFn: userAtKey }),
      userFindings: new DataLoader((users) => services.findings.forUsers(users), { cacheKeyFn: userAtKey }),
      remediationAction: new DataLoader((ids) => services.remediationActions.byIds(ids)),
      exception: new DataLoader((ids) => services.exceptions.byIds(ids)),
    },
  };
}
