// The posture page: sign in with an API token, then the trend, the worst accounts, the failing findings
// (with evidence, history and deactivation) and the scans, all from the public GraphQL API.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { graphqlClient } from './api';
import { h, replace, statusLine } from './dom';
import { SIGN_IN_CHECK } from './queries';
import { session } from './session';
import { AccountsView } from './views/accounts.view';
import { FindingDetailView } from './views/finding-detail.view';
import { FindingsView } from './views/findings.view';
import { ScansView } from './views/scans.view';
import { RANGES, TrendView, type Range } from './views/trend.view';

const app = document.getElementById('app')!;
const gql = graphqlClient(() => session.token(), () => signOut('The server refused the token; sign in again.'));
let scans: ScansView | null = null;

function signOut(message?: string): void {
  session.signOut();
  scans?.stop();
  showSignIn(message);
}

function showSignIn(message?: string): void {
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const status = h('div', { 'aria-live': 'polite' }, message ? statusLine(message, 'error') : null);
  replace(
    app,
    h('main', { class: 'signin' },
      h('h1', {}, 'Keywarden'),
      h('p', {}, 'Paste an API token (keywarden token create --name NAME --scope findings:read; add remediation:write to deactivate keys). It stays in this tab only.'),
      h('form', {
        id: 'signin',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          session.signIn(input.value.trim());
          input.value = '';
          try {
            await gql(SIGN_IN_CHECK);
            showPosture();
          } catch (err) {
            session.signOut();
            replace(status, statusLine(`Sign-in failed: ${(err as Error).message}`, 'error'));
          }
        },
      }, h('label', { for: 'token' }, 'API token'), input, h('button', { type: 'submit' }, 'Sign in')),
      status),
  );
  input.focus();
}

function section(id: string, title: string): HTMLElement {
  return h('section', { id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title));
}

function showPosture(): void {
  let range: Range = '30d';
  let accountId: string | null = null;
  const trendSection = section('trend', 'Compliance over time');
  const accountsSection = section('accounts', 'Accounts, worst first');
  const findingsSection = section('findings', 'Failing findings');
  const detailSection = h('section', { id: 'detail', 'aria-labelledby': 'detail-heading', hidden: true });
  const scansSection = section('scans', 'Scans');
  const scope = h('p', { class: 'scope', 'aria-live': 'polite' });
  const rangeButtons = (Object.keys(RANGES) as Range[]).map((r) => h('button', { type: 'button', 'aria-pressed': String(r === range), 'data-range': r, onclick: () => { range = r; refreshTrend(); } }, r.replace('d', ' d').replace('1y', '1 y')));
  trendSection.append(
    scope,
    h('div', { class: 'range', role: 'group', 'aria-label': 'Range' }, ...rangeButtons),
  );
  const trend = new TrendView(gql, trendSection);
  const refreshTrend = () => {
    for (const b of rangeButtons) b.setAttribute('aria-pressed', String(b.dataset.range === range));
    replace(scope, `Showing ${accountId ? `account ${accountId}` : 'all accounts'}. `, accountId ? h('button', { type: 'button', class: 'link', onclick: () => select(null) }, 'Show all accounts') : null);
    void trend.show(range, accountId);
  };
  const detail = new FindingDetailView(gql, detailSection, () => { void findings.load(); void accounts.load(); void scans?.load(); });
  const findings = new FindingsView(gql, findingsSection, (id) => void detail.open(id));
  const select = (id: string | null) => {
    accountId = id;
    refreshTrend();
    findings.setAccount(id);
  };
  const accounts = new AccountsView(gql, accountsSection, (id) => select(id));
  scans = new ScansView(gql, scansSection);

  replace(
    app,
    h('header', { class: 'top' },
      h('h1', {}, 'Keywarden posture'),
      h('nav', { 'aria-label': 'Sections' }, h('a', { href: '#trend' }, 'Trend'), h('a', { href: '#accounts' }, 'Accounts'), h('a', { href: '#findings' }, 'Findings'), h('a', { href: '#scans' }, 'Scans'), h('a', { href: '/graphiql' }, 'GraphiQL')),
      h('button', { type: 'button', onclick: () => signOut() }, 'Sign out')),
    h('main', {}, trendSection, accountsSection, findingsSection, detailSection, scansSection),
  );
  refreshTrend();
  void accounts.load().then((list) => findings.setAccounts(list.map((a) => a.accountId)));
  void findings.load();
  void scans.load();
}

if (session.token()) showPosture();
else showSignIn();
