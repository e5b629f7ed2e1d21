/** The facts of this machine that a result needs to be read elsewhere: CPU, flags, caches, versions. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { cpuInfo } from '../lib/index';
import { packageRoot } from '../lib/native';
import type { CacheInfo, Machine } from './types';

function linuxFlags(): string[] | null {
  try {
    const m = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1]!.trim().split(/\s+/) : null;
  } catch { return null; }
}

/** sysfs first; where a VM hides it, getconf (glibc reads CPUID). Empty when neither answers. */
export function caches(): CacheInfo[] {
  const dir = '/sys/devices/system/cpu/cpu0/cache';
  const out: CacheInfo[] = [];
  try {
    for (const e of fs.readdirSync(dir).filter((d) => d.startsWith('index'))) {
      const read = (f: string): string => fs.readFileSync(path.join(dir, e, f), 'utf8').trim();
      const m = /^(\d+)([KMG]?)$/.exec(read('size'));
      if (!m) continue;
      const bytes = Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1 << 20 : m[2] === 'G' ? 1 << 30 : 1);
      out.push({ level: Number(read('level')), type: read('type').toLowerCase(), bytes });
    }
  } catch { /* no sysfs cache info */ }
  if (out.length || process.platform !== 'linux') return out;
  try {
    const text = execFileSync('getconf', ['-a'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const [name, level, type] of [['LEVEL1_DCACHE_SIZE', 1, 'data'], ['LEVEL1_ICACHE_SIZE', 1, 'instruction'], ['LEVEL2_CACHE_SIZE', 2, 'unified'], ['LEVEL3_CACHE_SIZE', 3, 'unified']] as const) {
      const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(text);
      if (m && Number(m[1]) > 0) out.push({ level, type, bytes: Number(m[1]) });
    }
  } catch { /* no getconf */ }
  return out;
}

export function lowbitVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch { return 'unknown'; }
}

export function machine(): Machine {
  const info = cpuInfo();
  const flags = linuxFlags() ?? Object.entries(info.features).filter(([, v]) => v).map(([k]) => k);
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    arch: info.arch,
    os: `${os.type()} ${os.release()}`,
    flags,
    cores: os.availableParallelism(),
    caches: caches(),
    node: process.version,
    lowbitVersion: lowbitVersion(),
    isa: info.isa,
    isas: info.isas,
    backend: info.backend,
    threads: info.threads,
  };
}
