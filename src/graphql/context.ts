import DataLoader from 'dataloader';
import type { PrismaClient } from '../generated/prisma/client';
import { FindingsService, type FindingView } from '../services/findings.service';
import { IamUsersService, type AccessKeyView, type IamUserView } from '../services/iam-users.service';
import { ScansService, type ScanView } from '../services/scans.service';
import { TrendsService } from '../services/trends.service';

export interface Services {
  findings: FindingsService;
  iamUsers: IamUsersService;
  scans: ScansService;
  trends: TrendsService;
}

/** Per-request batching so a page of 100 users costs one query per field, not 100. */
export interface Loaders {
  scan: DataLoader<string, ScanView | null>;
  finding: DataLoader<string, FindingView | null>;
  accessKeys: DataLoader<UserAt, AccessKeyView[], string>;
  userFindings: DataLoader<UserAt, FindingView[], string>;
}

/** A user at the instant a view of it describes. */
export type UserAt = Pick<IamUserView, 'accountId' | 'userName' | 'at' | 'scanId'>;
const userAtKey = (u: UserAt) => `${u.accountId}/${u.userName}@${u.at.toISOString()}`;

export interface Context {
  services: Services;
  loaders: Loaders;
}

export function createServices(prisma: PrismaClient): Services {
  return {
    findings: new FindingsService(prisma),
    iamUsers: new IamUsersService(prisma),
    scans: new ScansService(prisma),
    trends: new TrendsService(prisma),
  };
}

export function createContext(services: Services): Context {
  return {
    services,
    loaders: {
      scan: new DataLoader((ids) => services.scans.byIds(ids)),
      finding: new DataLoader((ids) => services.findings.byIds(ids)),
      accessKeys: new DataLoader((users) => services.iamUsers.accessKeysOf(users), { cacheKeyFn: userAtKey }),
      userFindings: new DataLoader((users) => services.findings.forUsers(users), { cacheKeyFn: userAtKey }),
    },
  };
}
