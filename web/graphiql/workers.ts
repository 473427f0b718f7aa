// Monaco runs its language services in web workers; each is its own file bundled by web/build.mjs, loaded
// from this origin (the CSP's worker-src 'self'), never from a CDN or a blob: URL.
(globalThis as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    const file = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js';
    return new Worker(`/graphiql/${file}`);
  },
};
