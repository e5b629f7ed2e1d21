#!/usr/bin/env node
// lowbit's install script. With a binary that loads (the prebuild for this platform, or an earlier
// local build) there is nothing to do and no compiler is touched; otherwise it compiles the addon
// with cmake-js (needs cmake and a C++17 compiler). `npm rebuild lowbit --build-from-source`
// compiles in any case. If this script never runs (npm's allowScripts, --ignore-scripts), the
// prebuild still loads; without one lowbit runs on its TypeScript fallback and says how to fix it.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fromSource = process.env.npm_config_build_from_source === 'true';

if (!fromSource) {
  let why;
  try {
    const file = require('node-gyp-build').path(root);
    require(file);
    console.log(`lowbit: ${path.relative(root, file)} loads; nothing to compile`);
    process.exit(0);
  } catch (e) {
    why = String(e && e.message ? e.message : e).split('\n')[0];
  }
  console.log(`lowbit: no binary loads (${why}); compiling with cmake-js`);
} else {
  console.log('lowbit: --build-from-source; compiling with cmake-js');
}
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
