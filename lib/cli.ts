#!/usr/bin/env node
/** The `lowbit` command: `lowbit info`, `lowbit bench [args]`. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { cpuInfo } from './backend';
import { loaded } from './native';

const USAGE = `usage: lowbit <command>
  info     the binary loaded (prebuild, local build or TS fallback) and why, the CPU features
           lowbit sees, the ISAs it can use, and the one in use
  bench    the benchmark (npm run bench): table, JSON, charts; lowbit bench --help lists its options
Environment: LOWBIT_BACKEND=native|ts, LOWBIT_ISA=<name from lowbit info>`;

function info(): void {
  const c = cpuInfo();
  const features = Object.entries(c.features).map(([k, v]) => `${k}${v ? '' : ' (no)'}`).join(', ');
  process.stdout.write(
    `lowbit on ${c.arch}\n` +
      `  backend   ${c.backend}\n` +
      `  features  ${features || '(unknown: native addon not loaded)'}\n` +
      `  ISAs      ${c.isas.join(', ')} (best last)\n` +
      `  in use    ${c.isa}\n` +
      `  threads   ${c.threads}\n` +
      `  binary    ${loaded.source}${loaded.path ? ` ${loaded.path}` : ''}\n` +
      `  why       ${loaded.reason}\n`,
  );
}

function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'info':
      info();
      return 0;
    case 'bench': {
      // The package ships the compiled bench next to the library (package.json "files").
      const script = path.join(__dirname, '..', 'bench', 'index.mjs');
      if (!fs.existsSync(script)) {
        process.stderr.write(`lowbit bench: ${script} is missing (a build without the bench: npm run prepare)\n`);
        return 1;
      }
      return spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' }).status ?? 1;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`lowbit: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
