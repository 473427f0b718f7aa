/**
 * The IAM actions the sandbox implements: parameter validation (IAM's ValidationError wording),
 * pagination, state lookups and the `<XxxResult>` body of each answer.
 */
import {
  IamError,
  noSuchAccessKey,
  noSuchLoginProfile,
  noSuchUser,
  validationError,
  type IamErrorCode,
} from './errors';
import type { SandboxOperation } from './faults';
import type { SandboxAccessKey, SandboxTag, SandboxUserRecord } from './fixture';
import type { SandboxState } from './state';
import { el, memberList, wrap } from './xml';

export type ActionParams = Record<string, string>;

/** Who is calling, when it is not the account's caller user (an assumed-role session has no IAM user). */
export interface IamCaller {
  arn: string;
  isUser: boolean;
}

/**
 * Returns the inner XML of `<XxxResult>`, or null for operations without output (UpdateAccessKey, DeleteAccessKey).
 * Without `caller`, the caller is the account's caller user.
 */
export type ActionHandler = (params: ActionParams, state: SandboxState, caller?: IamCaller) => string | null;

// ------------------------------------------------------------ parameter validation

const USER_NAME_RE = /^[\w+=,.@-]+$/;
const ACCESS_KEY_ID_RE = /^\w+$/;
const PATH_PREFIX_RE = /^\u002F[\u0021-\u007F]*$/;
const MARKER_RE = /^[\u0020-\u00FF]+$/;

const quoted = (v: string): string => `'${v}'`;

/** Collects all problems first, then answers one ValidationError, as IAM does. */
class ParamReader {
  private readonly problems: string[] = [];
  constructor(private readonly params: ActionParams) {}

  private fail(field: string, value: string | undefined, constraint: string): void {
    this.problems.push(
      `Value ${value === undefined ? 'null' : quoted(value)} at '${field}' failed to satisfy constraint: ${constraint}`,
    );
  }

  private str(
    name: string,
    field: string,
    required: boolean,
    rule: { min: number; max: number; pattern: RegExp; patternText: string },
  ): string | undefined {
    const v = this.params[name];
    if (v === undefined) {
      if (required) this.fail(field, v, 'Member must not be null');
      return undefined;
    }
    if (v.length < rule.min) this.fail(field, v, `Member must have length greater than or equal to ${rule.min}`);
    else if (v.length > rule.max) this.fail(field, v, `Member must have length less than or equal to ${rule.max}`);
    else if (!rule.pattern.test(v)) this.fail(field, v, `Member must satisfy regular expression pattern: ${rule.patternText}`);
    return v;
  }

  userName(required: boolean): string | undefined {
    return this.str('UserName', 'userName', required, { min: 1, max: 64, pattern: USER_NAME_RE, patternText: '[\\w+=,.@-]+' });
  }

  accessKeyId(): string {
    return this.str('AccessKeyId', 'accessKeyId', true, { min: 16, max: 128, pattern: ACCESS_KEY_ID_RE, patternText: '[\\w]+' }) ?? '';
  }

  status(): 'Active' | 'Inactive' {
    const v = this.params['Status'];
    if (v === undefined) this.fail('status', v, 'Member must not be null');
    else if (v !== 'Active' && v !== 'Inactive') this.fail('status', v, 'Member must satisfy enum value set: [Active, Inactive]');
    return v === 'Inactive' ? 'Inactive' : 'Active';
  }

  pathPrefix(): string | undefined {
    return this.str('PathPrefix', 'pathPrefix', false, {
      min: 1,
      max: 512,
      pattern: PATH_PREFIX_RE,
      patternText: '\\u002F[\\u0021-\\u007F]*',
    });
  }

  /** MaxItems 1..1000, default 100 (IAM's default). */
  maxItems(): number {
    const v = this.params['MaxItems'];
    if (v === undefined) return 100;
    if (!/^-?\d+$/.test(v)) {
      this.fail('maxItems', v, 'Member must be an integer');
      return 100;
    }
    const n = Number(v);
    if (n < 1) this.fail('maxItems', v, 'Member must have value greater than or equal to 1');
    else if (n > 1000) this.fail('maxItems', v, 'Member must have value less than or equal to 1000');
    return n;
  }

  marker(): string | undefined {
    return this.str('Marker', 'marker', false, { min: 1, max: 320, pattern: MARKER_RE, patternText: '[\\u0020-\\u00FF]+' });
  }

  done(): void {
    if (this.problems.length > 0) throw validationError(this.problems);
  }
}

// ------------------------------------------------------------ markers

/** Opaque to clients; binds the position to the operation (and user) it came from. */
interface MarkerData {
  o: string;
  u?: string;
  k: string;
}

const invalidMarker = (): IamError => new IamError('ValidationError', 'Invalid Marker.');

function encodeMarker(data: MarkerData): string {
  return Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
}

function decodeMarker(marker: string, op: string, user?: string): string {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
  } catch {
    throw invalidMarker();
  }
  if (typeof data !== 'object' || data === null) throw invalidMarker();
  const m = data as Partial<MarkerData>;
  if (m.o !== op || typeof m.k !== 'string' || (user !== undefined && m.u !== user)) throw invalidMarker();
  return m.k;
}

const truncation = (isTruncated: boolean, marker: string | undefined): string =>
  el('IsTruncated', isTruncated) + (isTruncated && marker !== undefined ? el('Marker', marker) : '');

// ------------------------------------------------------------ XML pieces

// ListUsers omits Tags and PermissionsBoundary, as IAM's listing operations do; GetUser includes Tags.
function userXml(state: SandboxState, u: SandboxUserRecord, withTags: boolean): string {
  return (
    el('Path', u.path) +
    el('UserName', u.userName) +
    el('UserId', u.userId) +
    el('Arn', state.userArn(u)) +
    el('CreateDate', u.createdAt) +
    el('PasswordLastUsed', u.passwordLastUsed) +
    (withTags && u.tags.length > 0 ? memberList('Tags', u.tags.map(tagXml)) : '')
  );
}

const tagXml = (t: SandboxTag): string => el('Key', t.key) + el('Value', t.value);

const keyMetadataXml = (userName: string, k: SandboxAccessKey): string =>
  el('UserName', userName) + el('AccessKeyId', k.accessKeyId) + el('Status', k.status) + el('CreateDate', k.createdAt);

// Keys sort by (CreateDate, id); this string key sorts the same way (offset keeps pre-1970 dates positive).
const keySortKey = (k: SandboxAccessKey): string =>
  `${String(k.createdAt.getTime() + 8.64e15).padStart(17, '0')}:${k.accessKeyId}`;

// ------------------------------------------------------------ operations

/** UserName if given (must exist), else the caller, which must then be a user (as IAM insists). */
function userOrCaller(state: SandboxState, userName: string | undefined, caller?: IamCaller): SandboxUserRecord {
  if (userName !== undefined) return state.requireUser(userName);
  if (caller && !caller.isUser) throw new IamError('ValidationError', 'Must specify userName when calling with non-User credentials');
  return state.callerUser();
}

function accessDeniedMessage(state: SandboxState, action: string, resource: string, caller?: IamCaller): string {
  return `User: ${caller?.arn ?? state.userArn(state.callerUser())} is not authorized to perform: iam:${action} on resource: ${resource}`;
}

const listUsers: ActionHandler = (params, state) => {
  const r = new ParamReader(params);
  const pathPrefix = r.pathPrefix();
  const marker = r.marker();
  const maxItems = r.maxItems();
  r.done();
  const after = marker === undefined ? undefined : decodeMarker(marker, 'ListUsers');
  const page = state.pageUsers(after, maxItems, pathPrefix);
  const last = page.users[page.users.length - 1];
  const next = last ? encodeMarker({ o: 'ListUsers', k: last.userName.toLowerCase() }) : undefined;
  return memberList('Users', page.users.map((u) => userXml(state, u, false))) + truncation(page.isTruncated, next);
};

const getUser: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const userName = r.userName(false);
  r.done();
  return wrap('User', userXml(state, userOrCaller(state, userName, caller), true));
};

const listUserTags: ActionHandler = (params, state) => {
  const r = new ParamReader(params);
  const userName = r.userName(true)!;
  const marker = r.marker();
  const maxItems = r.maxItems();
  r.done();
  const user = state.requireUser(userName);
  const owner = user.userName.toLowerCase();
  let start = 0;
  if (marker !== undefined) {
    // Position = index after the last returned tag; re-found by key if tags changed in between.
    const [idx, ...rest] = decodeMarker(marker, 'ListUserTags', owner).split(':');
    const lastKey = rest.join(':');
    const i = Number(idx);
    if (!Number.isInteger(i) || i < 0) throw invalidMarker();
    const found = user.tags[i - 1]?.key === lastKey ? i : user.tags.findIndex((t) => t.key === lastKey) + 1;
    start = found > 0 ? found : Math.min(i, user.tags.length);
  }
  const page = user.tags.slice(start, start + maxItems);
  const end = start + page.length;
  const isTruncated = end < user.tags.length;
  const next = page.length > 0 ? encodeMarker({ o: 'ListUserTags', u: owner, k: `${end}:${page[page.length - 1]!.key}` }) : undefined;
  return memberList('Tags', page.map(tagXml)) + truncation(isTruncated, next);
};

const getLoginProfile: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const userName = r.userName(false);
  r.done();
  const user = userOrCaller(state, userName, caller);
  // Same code (NoSuchEntity) for "no such user" and "no console password"; only the message differs.
  if (!user.loginProfile) throw noSuchLoginProfile(user.userName);
  return wrap(
    'LoginProfile',
    el('UserName', user.userName) +
      el('CreateDate', user.loginProfile.createdAt) +
      el('PasswordResetRequired', user.loginProfile.passwordResetRequired),
  );
};

const listAccessKeys: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const userName = r.userName(false);
  const marker = r.marker();
  const maxItems = r.maxItems();
  r.done();
  const user = userOrCaller(state, userName, caller);
  const owner = user.userName.toLowerCase();
  const after = marker === undefined ? undefined : decodeMarker(marker, 'ListAccessKeys', owner);
  const keys = after === undefined ? user.accessKeys : user.accessKeys.filter((k) => keySortKey(k) > after);
  const page = keys.slice(0, maxItems);
  const last = page[page.length - 1];
  const next = last ? encodeMarker({ o: 'ListAccessKeys', u: owner, k: keySortKey(last) }) : undefined;
  return (
    memberList('AccessKeyMetadata', page.map((k) => keyMetadataXml(user.userName, k))) +
    truncation(keys.length > page.length, next)
  );
};

const getAccessKeyLastUsed: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const accessKeyId = r.accessKeyId();
  r.done();
  const ref = state.findAccessKey(accessKeyId);
  // IAM answers AccessDenied (not NoSuchEntity) for a key that is not in the account.
  if (!ref) throw new IamError('AccessDenied', accessDeniedMessage(state, 'GetAccessKeyLastUsed', `access key ${accessKeyId}`, caller));
  const used = ref.key.lastUsed;
  // Never used: no LastUsedDate, ServiceName and Region are the literal "N/A".
  return (
    el('UserName', ref.userName) +
    wrap(
      'AccessKeyLastUsed',
      el('LastUsedDate', used?.date) + el('ServiceName', used ? used.serviceName : 'N/A') + el('Region', used ? used.region : 'N/A'),
    )
  );
};

const generateCredentialReport: ActionHandler = (_params, state) => {
  const result = state.generateCredentialReport();
  return el('State', result.state) + el('Description', result.description);
};

const getCredentialReport: ActionHandler = (_params, state) => {
  const report = state.getCredentialReport();
  return (
    el('Content', Buffer.from(report.csv, 'utf8').toString('base64')) +
    el('ReportFormat', 'text/csv') +
    el('GeneratedTime', report.generatedAt)
  );
};

/** Key must belong to the user named (or the caller): otherwise NoSuchEntity about the key. */
function ownedKey(state: SandboxState, userName: string | undefined, accessKeyId: string, caller?: IamCaller): SandboxAccessKey {
  const user = userOrCaller(state, userName, caller);
  const ref = state.findAccessKey(accessKeyId);
  if (!ref || ref.user === null || ref.user.userName.toLowerCase() !== user.userName.toLowerCase()) {
    throw noSuchAccessKey(accessKeyId);
  }
  return ref.key;
}

const updateAccessKey: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const userName = r.userName(false);
  const accessKeyId = r.accessKeyId();
  const status = r.status();
  r.done();
  ownedKey(state, userName, accessKeyId, caller).status = status;
  return null;
};

const deleteAccessKey: ActionHandler = (params, state, caller) => {
  const r = new ParamReader(params);
  const userName = r.userName(false);
  const accessKeyId = r.accessKeyId();
  r.done();
  ownedKey(state, userName, accessKeyId, caller);
  state.deleteAccessKey(accessKeyId);
  return null;
};

export const ACTION_HANDLERS: Readonly<Record<SandboxOperation, ActionHandler>> = {
  ListUsers: listUsers,
  GetUser: getUser,
  ListUserTags: listUserTags,
  GetLoginProfile: getLoginProfile,
  ListAccessKeys: listAccessKeys,
  GetAccessKeyLastUsed: getAccessKeyLastUsed,
  GenerateCredentialReport: generateCredentialReport,
  GetCredentialReport: getCredentialReport,
  UpdateAccessKey: updateAccessKey,
  DeleteAccessKey: deleteAccessKey,
};

export const isSandboxOperation = (action: string): action is SandboxOperation =>
  Object.prototype.hasOwnProperty.call(ACTION_HANDLERS, action);

const USER_SCOPED_WITH_CALLER_DEFAULT = new Set(['GetUser', 'GetLoginProfile', 'ListAccessKeys', 'UpdateAccessKey', 'DeleteAccessKey']);

/**
 * The user a call is about (for per-user fault rules): UserName, else the owner of AccessKeyId, else the caller
 * (when the caller is a user).
 */
export function subjectUserOf(action: string, params: ActionParams, state: SandboxState, caller?: IamCaller): string | undefined {
  if (params['UserName'] !== undefined) return params['UserName'];
  const keyId = params['AccessKeyId'];
  if (keyId !== undefined) {
    const ref = state.findAccessKey(keyId);
    if (ref) return ref.userName;
  }
  if (caller && !caller.isUser) return undefined;
  return USER_SCOPED_WITH_CALLER_DEFAULT.has(action) ? state.callerUser().userName : undefined;
}

/** IAM-like default message for an error forced by a fault rule. */
export function faultErrorMessage(
  code: IamErrorCode,
  action: string,
  subjectUser: string | undefined,
  state: SandboxState,
  caller?: IamCaller,
): string | undefined {
  switch (code) {
    case 'AccessDenied': {
      let resource = '*';
      if (subjectUser !== undefined) {
        const u = state.getUser(subjectUser);
        resource = u ? state.userArn(u) : `arn:aws:iam::${state.accountId}:user/${subjectUser}`;
      } else if (action === 'ListUsers') {
        resource = `arn:aws:iam::${state.accountId}:user/`;
      }
      return `${accessDeniedMessage(state, action, resource, caller)} because no identity-based policy allows the iam:${action} action`;
    }
    case 'NoSuchEntity':
      return subjectUser !== undefined ? noSuchUser(subjectUser).message : undefined;
    default:
      return undefined;
  }
}
