// Every GraphQL document the page sends, written against schema.graphql; nothing else in web/ holds GraphQL.
// Keep them here so a schema change (enum casing, new filters) is adapted in one file.

/** Cheap, needs only a valid token with findings:read: used to check a pasted token. */
export const SIGN_IN_CHECK = /* GraphQL */ `
  query SignInCheck {
    controls { id title }
  }
`;

export const TREND = /* GraphQL */ `
  query Trend($from: DateTime!, $to: DateTime!, $interval: TrendInterval!, $accountId: String) {
    complianceTrend(from: $from, to: $to, interval: $interval, accountId: $accountId) {
      at endsAt pass fail error opened resolved scans accounts
    }
  }
`;

/** Worst accounts first: those with a completed scan, ordered by their latest scan's FAIL count. */
export const ACCOUNTS_RANKED = /* GraphQL */ `
  query AccountsRanked($first: Int!) {
    accounts(first: $first, orderBy: { field: FAIL_COUNT, direction: DESC }) {
      totalCount
      nodes {
        id accountId name
        complianceSummary { counts { pass fail error excepted } failingUsers }
        lastScan { id status queuedAt observedAt finishedAt }
      }
    }
  }
`;

/** FAIL findings, by account and reason (the API filters: totalCount and the pages count only those that match). */
export const FAILING_FINDINGS = /* GraphQL */ `
  query FailingFindings($first: Int!, $after: String, $accountIds: [String!], $reasons: [FindingReason!]) {
    findings(first: $first, after: $after, filter: { status: [FAIL], accountIds: $accountIds, reasons: $reasons }, orderBy: { field: IDENTITY, direction: ASC }) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id accountId userName accessKeyId reasons status firstSeenAt }
    }
  }
`;

export const FINDING_DETAIL = /* GraphQL */ `
  query FindingDetail($id: ID!) {
    node(id: $id) {
      ... on Finding {
        id accountId userName userArn accessKeyId status state reasons
        firstSeenAt lastSeenAt resolvedAt resolution reopenCount
        evidence {
          userCreatedAt accessKeyCreatedAt secondsFromUserCreationToKey setupWindowSeconds gracePeriodSeconds
          accessKeyStatus accessKeyLastUsedAt accessKeyLastUsedService accessKeyLastUsedRegion
          passwordEnabled passwordLastUsedAt dataSource dataSourceAsOf evaluatedAt error
        }
        scan { id observedAt }
      }
    }
  }
`;

/** The account's recent scans: the instants the finding's history is read at. */
export const ACCOUNT_SCANS = /* GraphQL */ `
  query AccountScans($accountId: String!, $first: Int!) {
    scans(filter: { accountIds: [$accountId] }, first: $first) {
      nodes { id status observedAt }
    }
  }
`;

/**
 * The user's findings as of each instant (the API answers `asOf` from the latest completed scan at or before
 * it), one alias per instant: the history of a finding as the API keeps it. Every state, NEVER_FAILED too:
 * before it first failed, the finding may have been a PASS that never needed attention.
 */
export function findingHistory(instants: number): string {
  const vars = Array.from({ length: instants }, (_, i) => `$at${i}: DateTime!`).join(', ');
  const fields = Array.from(
    { length: instants },
    (_, i) => `h${i}: findings(asOf: $at${i}, first: 20, filter: { accountIds: [$accountId], userName: $userName }) {
      nodes { id accessKeyId status state reasons lastSeenAt resolution }
    }`,
  ).join('\n');
  return `query FindingHistory($accountId: String!, $userName: String!, ${vars}) {\n${fields}\n}`;
}

export const SCANS = /* GraphQL */ `
  query Scans($first: Int!) {
    scans(first: $first) {
      nodes {
        id accountId status source requestedBy queuedAt startedAt finishedAt observedAt
        opened resolved counts { fail error pass }
        progress { phase usersDone usersTotal }
        errors { code severity }
      }
    }
  }
`;

/** Queues a scan of every scannable account (needs scans:write); the scans view then polls them. */
export const START_SCAN_ALL = /* GraphQL */ `
  mutation StartScanAll($idempotencyKey: String) {
    startScan(input: { allAccounts: true, idempotencyKey: $idempotencyKey }) {
      scans { id status }
      skipped { accountId reason }
      userErrors { code message }
    }
  }
`;

const REMEDIATION_ACTION = `
  userErrors { code field message }
  action {
    id status dryRun plan reason errorCode errorMessage
    stateBefore { found status lastUsedAt }
    stateAfter { found status lastUsedAt }
  }
`;

/** Dry run first (dryRun: true), then the same input with dryRun: false. Needs remediation:write. */
export const DEACTIVATE_KEY = /* GraphQL */ `
  mutation DeactivateKey($input: AccessKeyActionInput!) {
    deactivateAccessKey(input: $input) { ${REMEDIATION_ACTION} }
  }
`;

/** The FindingReason values a FAIL finding can carry (the control's two failing reasons). */
export const FAIL_REASONS = ['CREATED_AT_SETUP', 'NEVER_USED'] as const;

/**
 * The enum values (and the one error code) the views compare against, as schema.graphql spells them: a change
 * of casing is adapted here, not in the views.
 */
export const SCAN_STATUS = { QUEUED: 'QUEUED', RUNNING: 'RUNNING', COMPLETED: 'COMPLETED', PARTIAL: 'PARTIAL', FAILED: 'FAILED', CANCELLED: 'CANCELLED' } as const;
export const COMPLIANCE_STATUS = { FAIL: 'FAIL' } as const;
export const TREND_INTERVAL = { DAY: 'DAY', WEEK: 'WEEK' } as const;
export const REMEDIATION_STATUS = { DRY_RUN: 'DRY_RUN' } as const;
/** AccessKeyStatus (FindingEvidence.accessKeyStatus, KeyState.status); format.ts's keyStatus shows it as IAM spells it. */
export const KEY_STATUS = { ACTIVE: 'ACTIVE' } as const;
/** ScanErrorSeverity of an error that left data missing. */
export const SCAN_ERROR_SEVERITY = { ERROR: 'ERROR' } as const;
/** extensions.code of a request the token's scopes do not allow. */
export const FORBIDDEN = 'FORBIDDEN';

/** Statuses of a scan that has not ended: the scans view polls while one is listed. */
export const ACTIVE_SCAN_STATUSES: string[] = [SCAN_STATUS.QUEUED, SCAN_STATUS.RUNNING];

// Result shapes of the documents above (only the fields selected).
export interface TrendPoint {
  at: string;
  endsAt: string;
  pass: number | null;
  fail: number | null;
  error: number | null;
  opened: number | null;
  resolved: number | null;
  scans: number;
  accounts: number;
}

export interface ScanRef {
  id: string;
  status: string;
  queuedAt: string;
  observedAt: string | null;
  finishedAt: string | null;
}

export interface RankedAccount {
  id: string;
  accountId: string;
  name: string | null;
  complianceSummary: { counts: { pass: number; fail: number; error: number; excepted: number }; failingUsers: number } | null;
  lastScan: ScanRef | null;
}

export interface FindingRow {
  id: string;
  accountId: string;
  userName: string;
  accessKeyId: string | null;
  reasons: string[];
  status: string;
  firstSeenAt: string;
}

export interface FindingDetail extends FindingRow {
  userArn: string;
  state: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  resolution: string | null;
  reopenCount: number;
  evidence: {
    userCreatedAt: string | null;
    accessKeyCreatedAt: string | null;
    secondsFromUserCreationToKey: number | null;
    setupWindowSeconds: number;
    gracePeriodSeconds: number;
    accessKeyStatus: string | null;
    accessKeyLastUsedAt: string | null;
    accessKeyLastUsedService: string | null;
    accessKeyLastUsedRegion: string | null;
    passwordEnabled: boolean | null;
    passwordLastUsedAt: string | null;
    dataSource: string;
    dataSourceAsOf: string;
    evaluatedAt: string;
    error: string | null;
  };
  scan: { id: string; observedAt: string | null };
}

export interface HistoryEntry {
  id: string;
  accessKeyId: string | null;
  status: string;
  state: string;
  reasons: string[];
  lastSeenAt: string;
  resolution: string | null;
}

export interface ScanRow {
  id: string;
  accountId: string | null;
  status: string;
  source: string;
  requestedBy: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  observedAt: string | null;
  opened: number;
  resolved: number;
  counts: { fail: number; error: number; pass: number };
  progress: { phase: string; usersDone: number; usersTotal: number | null } | null;
  errors: { code: string; severity: string }[];
}

export interface RemediationResult {
  /** `field` is the path of the input field at fault (["input", "accessKeyId"]); null when the request as a whole is. */
  userErrors: { code: string; field: string[] | null; message: string }[];
  action: {
    id: string;
    status: string;
    dryRun: boolean;
    plan: string | null;
    reason: string;
    errorCode: string | null;
    errorMessage: string | null;
    stateBefore: { found: string; status: string | null; lastUsedAt: string | null } | null;
    stateAfter: { found: string; status: string | null; lastUsedAt: string | null } | null;
  } | null;
}

export interface StartScanResult {
  scans: { id: string; status: string }[];
  skipped: { accountId: string; reason: string }[];
  userErrors: { code: string; message: string }[];
}
