#!/usr/bin/env node
'use strict';
// The CLI is bundled into dist/ by `npm run build` (run by `prepare` on `npm ci`).
require('../dist/cli.js');
