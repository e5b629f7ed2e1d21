/**
 * `lowbit bench` from an installed package: the packed tarball (npm pack) installed into a
 * clean folder, then `npx lowbit bench --quick --no-ort` on one small shape. Install scripts
 * are skipped (no compiler needed here); the addon this checkout built is copied in where
 * node-gyp-build looks for it. charts: vega is not a dependency, so the run must say why it
 * skips them and still write the table, the JSON and the HTML page.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loaded } from '../lib/native';

const root = path.resolve(__dirname, '..');
const addon = path.join(root, 'build', 'Release', 'lowbit.node');
const ready = loaded.binding !== null && fs.existsSync(addon);

function sh(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LOWBIT_ISA: '', npm_config_loglevel: 'error' }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

(ready ? test : test.skip)('npx lowbit bench runs from the installed tarball', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-bench-pkg-'));
  try {
    const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
    expect(pack.status).toBe(0);
    const tarball = path.join(dir, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const install = sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    expect(install.status === 0 ? 0 : install.stderr).toBe(0);
    const pkg = path.join(app, 'node_modules', 'lowbit');
    expect(fs.existsSync(path.join(pkg, 'bench', 'index.mts'))).toBe(false);  // no sources shipped: a real install
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(addon, path.join(pkg, 'build', 'Release', 'lowbit.node'));

    const help = sh('npx', ['--no-install', 'lowbit', 'bench', '--help'], app);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--quick/);

    const r = sh('npx', ['--no-install', 'lowbit', 'bench', '--quick', '--no-ort', '--shape', '8x256x256', '--suite', 'int8,lowbit,float32', '--time', '20'], app);
    expect(r.stderr).not.toMatch(/Cannot find module|bench failed/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/== 8x256x256 =/);
    expect(r.stdout).toMatch(/matmul_w8a8\s+\S+\s+1\s+[\d.]+/);
    // Outside a checkout the results go to ./lowbit-bench-results.
    const out = path.join(app, 'lowbit-bench-results');
    const json = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as { rows: unknown[]; machine: { backend: string } };
    expect(json.machine.backend).toBe('native');
    expect(json.rows.length).toBeGreaterThan(5);
    expect(fs.existsSync(path.join(out, 'latest.html'))).toBe(true);
    expect(r.stderr).toMatch(/charts skipped: vega \/ vega-lite are not installed/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
