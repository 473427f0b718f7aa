/**
 * What the sandbox's three APIs act on: the accounts (each with its own IAM state, created on first use),
 * the organization (null for a single-account fixture), issued sessions, fault rules and call counts.
 * The HTTP server and the protocol modules (handlers.ts, sts-api.ts, organizations-api.ts) read and change it.
 */
import { AccountCallCounters, FaultEngine, type FaultRule, type SandboxCallCounts } from './faults';
import { FixtureError, type SandboxFixture } from './fixture';
import { SandboxOrganization } from './organization';
import { accountIamFixture, type SandboxOrganizationFixture } from './organization-fixture';
import { assumedRoleArn, SessionStore, type SandboxCaller } from './sessions';
import { SandboxState } from './state';

/** Used when neither the options nor the fixture give a seed, so runs stay deterministic. */
export const DEFAULT_SANDBOX_SEED = 20100508;

/** One AssumeRole request as the sandbox saw it (refused ones included). */
export interface AssumeRoleRecord {
  at: Date;
  /** Who asked (an IAM user ARN, or an assumed-role ARN when chaining). */
  callerArn: string;
  roleArn: string;
  /** The role's account, when RoleArn names one. */
  accountId: string | undefined;
  roleName: string | undefined;
  sessionName: string | undefined;
  externalId: string | undefined;
  durationSeconds: number | undefined;
  /** 'Issued', or the error code answered (AccessDenied, ValidationError, Throttling, …). */
  outcome: string;
  /** Why AssumeRole was refused: not-in-organization, account-not-active, role-name, role-missing, external-id, fault. */
  reason?: string;
  /** The temporary access key id issued. */
  accessKeyId?: string;
}

export interface SandboxAccountHandle {
  readonly accountId: string;
  /** The account's IAM (users, keys, credential report); created on first use. */
  readonly state: SandboxState;
  /** Calls acting in this account. */
  calls(): SandboxCallCounts;
}

interface AccountSlot {
  fixture: SandboxFixture | (() => SandboxFixture);
  state?: SandboxState;
}

export class SandboxBackend {
  organization: SandboxOrganization | null = null;
  /** The account base (non-temporary) credentials act in. */
  defaultAccountId = '';
  /** Overrides AssumeRole's DurationSeconds (organization fixture `credentialLifetimeSeconds`). */
  credentialLifetimeSeconds: number | undefined;
  readonly faults: FaultEngine;
  readonly counters = new AccountCallCounters();
  readonly sessions = new SessionStore('keywarden-sandbox');
  readonly assumeRoleLog: AssumeRoleRecord[] = [];
  private accounts = new Map<string, AccountSlot>();

  constructor(
    fixture: SandboxFixture | SandboxOrganizationFixture,
    readonly now: () => Date,
    private readonly seedOverride?: number,
  ) {
    this.faults = new FaultEngine([], seedOverride ?? seedOf(fixture) ?? DEFAULT_SANDBOX_SEED);
    this.load(fixture);
  }

  /**
   * Replaces everything (accounts, organization, fault rules; sessions and the AssumeRole log are cleared).
   * A single account replaced by a single account keeps its SandboxState object, as before organizations.
   */
  load(fixture: SandboxFixture | SandboxOrganizationFixture): void {
    if ('organization' in fixture) {
      const o = fixture.organization;
      for (const a of o.accounts) {
        if (typeof a.iam === 'function') continue;
        if (a.iam.accountId !== a.accountId) throw new Error(`account ${a.accountId}: its IAM fixture is for ${a.iam.accountId}`);
      }
      this.organization = new SandboxOrganization(fixture);
      this.accounts = new Map(
        o.accounts.map((a): [string, AccountSlot] => [a.accountId, { fixture: typeof a.iam === 'function' ? () => this.generatedIam(a) : a.iam }]),
      );
      this.defaultAccountId = o.callerAccountId;
      this.credentialLifetimeSeconds = o.credentialLifetimeSeconds;
      // Each account's own rules apply to that account only.
      const accountRules = o.accounts.flatMap((a) =>
        typeof a.iam === 'function' ? [] : a.iam.faults.map((r) => ({ ...r, accountId: r.accountId ?? a.accountId })),
      );
      this.faults.setRules([...o.faults, ...accountRules]);
    } else {
      const previous = this.organization === null ? this.accounts.get(this.defaultAccountId)?.state : undefined;
      if (previous) previous.load(fixture);
      this.organization = null;
      this.accounts = new Map([[fixture.accountId, previous ? { fixture, state: previous } : { fixture }]]);
      this.defaultAccountId = fixture.accountId;
      this.credentialLifetimeSeconds = undefined;
      this.faults.setRules(fixture.faults);
    }
    const seed = seedOf(fixture);
    if (this.seedOverride === undefined && seed !== undefined) this.faults.reseed(seed);
    this.sessions.clear();
    this.assumeRoleLog.length = 0;
  }

  hasAccount(accountId: string): boolean {
    return this.accounts.has(accountId);
  }

  accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  /** The account's IAM state, created from its fixture on first use. */
  state(accountId: string): SandboxState {
    const slot = this.accounts.get(accountId);
    if (!slot) throw new Error(`no account ${accountId} in the sandbox`);
    if (!slot.state) {
      const fixture = typeof slot.fixture === 'function' ? slot.fixture() : slot.fixture;
      slot.state = new SandboxState(fixture, this.now);
    }
    return slot.state;
  }

  /** Accounts whose IAM state exists yet (generated organizations create it on first use). */
  accountsWithState(): string[] {
    return [...this.accounts].filter(([, slot]) => slot.state !== undefined).map(([id]) => id);
  }

  account(accountId: string): SandboxAccountHandle {
    if (!this.accounts.has(accountId)) throw new Error(`no account ${accountId} in the sandbox`);
    const backend = this;
    return {
      accountId,
      get state() {
        return backend.state(accountId);
      },
      calls: () => backend.counters.snapshot(accountId),
    };
  }

  /** The ARN a caller is known by: its IAM user, or its assumed-role session. */
  callerArn(caller: SandboxCaller): string {
    if (caller.kind === 'assumed-role') return assumedRoleArn(caller.session);
    const state = this.state(caller.accountId);
    return state.userArn(state.callerUser());
  }

  getFaults(): FaultRule[] {
    return this.faults.getRules();
  }

  /** A generated account's IAM, with its own fault rules refused: they belong in organization.faults. */
  private generatedIam(a: SandboxOrganizationFixture['organization']['accounts'][number]): SandboxFixture {
    const fixture = accountIamFixture(a);
    if (fixture.faults.length > 0) {
      throw new FixtureError([
        {
          path: `account ${a.accountId}.iam.faults`,
          message: 'a generated account cannot bring fault rules: put them in organization.faults with its accountId',
        },
      ]);
    }
    return fixture;
  }
}

function seedOf(fixture: SandboxFixture | SandboxOrganizationFixture): number | undefined {
  return 'organization' in fixture ? fixture.organization.seed : fixture.seed;
}
