#!/usr/bin/env node
// In a checkout (`npx keywarden …` after `npm install`), build first when the sources changed since the
// last build, so the command works as the README prints it in a fresh clone. An installed build has no src/.
const fs = require('node:fs');
const path = require('node:path');
if (fs.existsSync(path.join(__dirname, '..', 'src', 'cli.ts'))) require('../scripts/build-if-changed.js').buildIfChanged();
require('../dist/src/cli.js');
