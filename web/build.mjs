// Bundles the posture page and GraphiQL into dist/web (run by `npm run build`, through `npm run build:web`).
// Everything the browser loads comes from here: no CDN at run time, and no inline script or style,
// so the server's Content-Security-Policy can stay strict (src/graphql/web.routes.ts).
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, '..', 'dist', 'web');
const common = { bundle: true, minify: true, sourcemap: true, target: 'es2022', legalComments: 'linked', logLevel: 'warning' };

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'graphiql'), { recursive: true });

await Promise.all([
  // The page: plain TypeScript and uPlot.
  build({ ...common, entryPoints: { app: path.join(root, 'src', 'main.ts') }, outdir: out, format: 'esm' }),
  // GraphiQL 5 with React; Monaco's editor, JSON and GraphQL workers as files of their own (web/graphiql/workers.ts).
  build({
    ...common,
    sourcemap: false, // 20 MB of maps for code that is not ours
    entryPoints: { graphiql: path.join(root, 'graphiql', 'main.tsx') },
    outdir: path.join(out, 'graphiql'),
    format: 'esm',
    jsx: 'automatic',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
  build({
    ...common,
    sourcemap: false,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: path.join(out, 'graphiql'),
    format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
]);
await copyFile(path.join(root, 'src', 'index.html'), path.join(out, 'index.html'));
await copyFile(path.join(root, 'src', 'favicon.svg'), path.join(out, 'favicon.svg'));
await copyFile(path.join(root, 'graphiql', 'index.html'), path.join(out, 'graphiql', 'index.html'));
