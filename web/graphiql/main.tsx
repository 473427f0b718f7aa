// GraphiQL from the graphiql package, bundled with React (no CDN). The token goes in the headers editor
// (prefilled from the posture page's sign-in, which shares this origin's sessionStorage); headers are not
// persisted (shouldPersistHeaders stays false), so the token never reaches localStorage.
import './workers';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';

const token = sessionStorage.getItem('keywarden.token');
const initialHeaders = JSON.stringify({ Authorization: `Bearer ${token ?? '<paste an API token>'}` }, null, 2);

interface Params {
  query: string;
  variables?: unknown;
  operationName?: string | null;
}

async function fetcher(params: Params, opts?: { headers?: Record<string, unknown> }) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [k, v] of Object.entries(opts?.headers ?? {})) headers[k] = String(v);
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params), credentials: 'omit' });
  return res.json();
}

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL fetcher={fetcher} initialHeaders={initialHeaders} defaultEditorToolsVisibility="headers" />,
);
