#!/usr/bin/env node
/**
 * Builds dist/ (prisma generate, then tsc) only when its inputs changed since the last build, so a
 * second `npm start` or `npx keywarden …` does not spend ~10 s rebuilding. Inputs are hashed by
 * content, not mtime: `git clone` and `git checkout` set every mtime to "now".
 *
 * Prisma's own output (config detection, "Generated Prisma Client") is kept out of normal output
 * and shown only when generate fails; tsc's errors are always shown.
 *
 *   node scripts/build-if-changed.js          build if stale, else nothing
 *   node scripts/build-if-changed.js --check  exit 1 if stale, 0 if current (builds nothing)
 *   node scripts/build-if-changed.js --stamp  record the current inputs as built (`npm run build` ends with it)
 */
'use strict';
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const STAMP = path.join(ROOT, 'dist', '.build-inputs.json');

/** Files whose content decides the build: sources (not the generated client), configs, the lockfile. */
function inputs() {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (p !== path.join(ROOT, 'src', 'generated')) walk(p);
      } else if (/\.(ts|tsx|js|json|graphql|prisma|mjs|css|html|svg)$/.test(entry.name)) files.push(p);
    }
  };
  for (const dir of ['src', 'bench', 'web', 'scripts']) if (fs.existsSync(path.join(ROOT, dir))) walk(path.join(ROOT, dir));
  for (const f of ['prisma/schema.prisma', 'prisma.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json']) {
    if (fs.existsSync(path.join(ROOT, f))) files.push(path.join(ROOT, f));
  }
  return files.sort();
}

function digest(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(path.relative(ROOT, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex');
}

function prismaDigest() {
  const h = createHash('sha256');
  for (const f of ['prisma/schema.prisma', 'package-lock.json']) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

function run(cmd, args, { quiet, env } = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: quiet ? 'pipe' : 'inherit', env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    process.stderr.write(`keywarden: build failed: ${[cmd, ...args].join(' ')} exited ${r.status ?? r.signal}\n`);
    process.exit(r.status || 1);
  }
}

/** mode: 'build' (if stale), 'check' (exit 1 if stale), 'stamp' (record the inputs as built). */
function buildIfChanged(mode = 'build') {
  const stamp = readStamp();
  const sources = digest(inputs());
  const prisma = prismaDigest();
  const generated = fs.existsSync(path.join(ROOT, 'src', 'generated', 'prisma', 'client.ts'));
  const built = fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli.js'));
  const current = built && generated && stamp.sources === sources;
  if (mode === 'check') process.exit(current ? 0 : 1);
  if (mode === 'stamp') return writeStamp(sources, prisma);
  if (current) return;

  const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
  process.stderr.write('keywarden: building (sources changed since the last build)…\n');
  if (!generated || stamp.prisma !== prisma) {
    // The generator needs a datasource URL to parse the schema; it connects to nothing.
    run(bin('prisma'), ['generate'], { quiet: true, env: { DATABASE_URL: process.env.DATABASE_URL || 'postgresql://localhost/keywarden' } });
  }
  run(bin('tsc'), ['-p', 'tsconfig.json']);
  // The posture page and GraphiQL (web/): type-checked, then bundled by esbuild into dist/web.
  run(bin('tsc'), ['-p', 'web/tsconfig.json']);
  run(process.execPath, [path.join(ROOT, 'web', 'build.mjs')]);
  // Hashed again after the build: generate rewrites nothing under the inputs, but a source edited
  // during the build must not be recorded as built.
  writeStamp(digest(inputs()) === sources ? sources : null, prisma);
}

function writeStamp(sources, prisma) {
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, JSON.stringify({ sources, prisma }) + '\n');
}

module.exports = { buildIfChanged };

if (require.main === module) buildIfChanged(process.argv.includes('--check') ? 'check' : process.argv.includes('--stamp') ? 'stamp' : 'build');
