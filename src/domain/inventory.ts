/**
 * The typed inventory of one AWS account, collected once per scan. Controls only read it.
 * Domain code: no AWS SDK or Prisma imports here.
 */

export type InventorySource = 'CREDENTIAL_REPORT' | 'PER_USER_API';

/** Where a piece of data came from and how fresh it is (the credential report can be 4 h old). */
export interface DataSource {
  kind: InventorySource;
  /** Report GeneratedTime for report data; the moment of the API call for live data. */
  asOf: Date;
}

export interface AccessKeyLastUse {
  date: Date;
  serviceName: string | null;
  region: string | null;
}

export interface InventoryAccessKey {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createdAt: Date;
  /** Null when IAM has no record of use (never used, or used before 2015-04-22). */
  lastUsed: AccessKeyLastUse | null;
  lastUsedSource: DataSource;
  /** Set when this key's last use could not be read: its finding is then ERROR. */
  readError?: ReadError;
}

export interface ReadError {
  operation: string;
  code: string;
  message: string;
}

export interface InventoryUser {
  userName: string;
  userId: string | null;
  arn: string;
  path: string | null;
  createdAt: Date;
  /** Null when the login profile could not be read. */
  hasConsolePassword: boolean | null;
  passwordLastUsedAt: Date | null;
  passwordSource: DataSource;
  mfaActive: boolean | null;
  tags: Record<string, string> | null;
  /** Null when the keys could not be listed (see readError). */
  accessKeys: InventoryAccessKey[] | null;
  /** Set when this user (or part of it) could not be read: never reported as compliant. */
  readError?: ReadError;
}

export interface InventoryRoot {
  arn: string;
  accountCreatedAt: Date | null;
  passwordEnabled: boolean | null;
  accessKeysActive: number;
}

export interface AccountInventory {
  accountId: string;
  source: InventorySource;
  collectedAt: Date;
  reportGeneratedAt: Date | null;
  users: InventoryUser[];
  /** Only the credential report shows the root account. */
  root: InventoryRoot | null;
  /** Account-level problems (a page of ListUsers that failed, a report that could not be read). */
  errors: ScanError[];
}

/**
 * What scans already stored read live (per-user API) after an instant, a credential report's generation time:
 * every user (a full per-user scan, or a report scan that fell back to it), or the users of targeted re-scans.
 */
export interface LiveReads {
  allUsers: boolean;
  userNames: ReadonlySet<string>;
  /** The stored scan that read every user live, for the scan's warning. */
  allUsersAt: Date | null;
}

export interface ScanError {
  /** `error`: data is missing, the scan is PARTIAL. `warning`: worth knowing, nothing missing (e.g. a fallback). */
  severity: 'error' | 'warning';
  scope: 'ACCOUNT' | 'USER' | 'ACCESS_KEY';
  userName?: string;
  accessKeyId?: string;
  operation: string;
  code: string;
  message: string;
}
