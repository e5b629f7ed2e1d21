/**
 * docs/api is typedoc's markdown of the public API (scripts/typedoc.json: lib/index.ts). Regenerated here
 * into a temporary folder, it must equal the committed copy, so the reference cannot drift from
 * the code: after changing an export or its comment, run `npm run docs:api` and commit the result.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const committed = path.join(root, 'docs', 'api');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

test('docs/api matches typedoc run on the current sources (npm run docs:api regenerates it)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-api-'));
  try {
    const typedoc = path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--options', path.join(root, 'scripts', 'typedoc.json'), '--out', out, '--logLevel', 'Warn', '--treatWarningsAsErrors'], { cwd: root, encoding: 'utf8' });
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
    const fresh = files(out);
    expect(fresh.length).toBeGreaterThan(0);
    expect(files(committed)).toEqual(fresh);
    for (const f of fresh) {
      const want = fs.readFileSync(path.join(out, f), 'utf8');
      const got = fs.readFileSync(path.join(committed, f), 'utf8');
      expect({ file: f, upToDate: got === want }).toEqual({ file: f, upToDate: true });
    }
    // the reference is of the public API: every export of the package root appears in it
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = Object.keys(require('../lib/index') as Record<string, unknown>);
    const text = fresh.map((f) => fs.readFileSync(path.join(out, f), 'utf8')).join('\n');
    const absent = api.filter((name) => !new RegExp(`^### ${name.replace(/_/g, '\\\\_')}(\\(\\))?$`, 'm').test(text));
    expect(absent).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
