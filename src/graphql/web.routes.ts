import { existsSync } from 'node:fs';
import path from 'node:path';
import compression from 'compression';
import express from 'express';
import helmet from 'helmet';

/**
 * The posture page at / and GraphiQL at /graphiql: static files that web/build.mjs bundles into dist/web
 * (`npm run build`), each with its own Content-Security-Policy. Both talk only to /graphql on this origin.
 */

/** Shared by both: nothing from another origin, no plugins, no framing, no <base> games. */
const BASE = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'"],
  fontSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
};

/** The page writes no inline script or style (its DOM builder never sets a style attribute; uPlot styles through the CSSOM). */
export const PAGE_CSP = { ...BASE, styleSrc: ["'self'"] };

/**
 * What GraphiQL 5 needs beyond the page's: Monaco writes style attributes and inserts a <style> element at run
 * time (style-src 'unsafe-inline'), runs its language services in workers (worker-src 'self', our own files), and its CSS
 * inlines fonts and images as data: URLs. It needs no 'unsafe-eval'. Each was found as a violation in Chromium.
 */
export const GRAPHIQL_CSP = { ...BASE, styleSrc: ["'self'", "'unsafe-inline'"], workerSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'", 'data:'] };

/** The package root's dist/web, found from this file: dist/src/graphql once compiled, src/graphql when run from source (tests). */
export function defaultWebRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'web');
}

export function webRoutes(root: string = defaultWebRoot()): express.Router {
  const router = express.Router();
  const built = existsSync(path.join(root, 'index.html'));
  const csp = (directives: Record<string, string[]>) => helmet.contentSecurityPolicy({ useDefaults: false, directives });
  // Revalidated on each load (file names carry no hash), answered 304 when unchanged.
  const files = express.static(root, { index: 'index.html', maxAge: 0, redirect: false, fallthrough: true });
  const pageCsp = csp(PAGE_CSP);
  const graphiqlCsp = csp(GRAPHIQL_CSP);
  router.use(compression());
  router.use((req, res, next) => {
    if (req.path === '/graphiql') return res.redirect(301, '/graphiql/'); // one URL for it: static serving answers the folder only
    return (req.path.startsWith('/graphiql/') ? graphiqlCsp : pageCsp)(req, res, next);
  });
  if (!built) {
    router.get(['/', '/graphiql/'], (_req, res) => {
      res.status(404).type('text/plain').send('the page is not built: run `npm run build` (it bundles web/ into dist/web)');
    });
    return router;
  }
  router.use(files);
  return router;
}
