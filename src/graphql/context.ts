import DataLoader from 'dataloader';
import type { PrismaClient } from '../generated/prisma/client';
import { FindingsService, type FindingView } from '../services/findings.service';
import { IamUsersService, type AccessKeyView, type IamUserView } from '../services/iam-users.service';
import { ScansService, type ScanView } from '../services/scans.service';

export interface Services {
  findings: FindingsService;
  iamUsers: IamUsersService;
  scans: ScansService;
}

/** Per-request batching so a page of 100 users costs one query per field, not 100. */
export interface Loaders {
  scan: DataLoader<string, ScanView | null>;
  finding: DataLoader<string, FindingView | null>;
  iamUser: DataLoader<string, IamUserView | null>;
  accessKeys: DataLoader<string, AccessKeyView[]>;
  userFindings: DataLoader<{ scanId: string; accountId: string; userName: string }, FindingView[], string>;
}

export interface Context {
  services: Services;
  loaders: Loaders;
}

export function createServices(prisma: PrismaClient): Services {
  return { findings: new FindingsService(prisma), iamUsers: new IamUsersService(prisma), scans: new ScansService(prisma) };
}

export function createContext(services: Services): Context {
  return {
    services,
    loaders: {
      scan: new DataLoader((ids) => services.scans.byIds(ids)),
      finding: new DataLoader((ids) => services.findings.byIds(ids)),
      iamUser: new DataLoader((ids) => services.iamUsers.byIds(ids)),
      accessKeys: new DataLoader((ids) => services.iamUsers.accessKeysOf(ids)),
      userFindings: new DataLoader((keys) => services.findings.forUsers(keys), {
        cacheKeyFn: (k) => `${k.scanId}/${k.userName}`,
      }),
    },
  };
}
