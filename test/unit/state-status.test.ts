import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveStatus, stateJson } from '../../src/state/status';
import { isRunning, parseProcStat, procStat } from '../../src/proc';
import type { ContainerRecord } from '../../src/state/record';

let tmp: string;
const kids: ChildProcess[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'state-status-'));
});
afterAll(() => {
  for (const k of kids) k.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(f: () => T | null | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function record(extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id: 'c1',
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-01-01T00:00:00Z',
    owner: 'root',
    annotations: {},
    ...extra,
  };
}

const SAMPLE_TAIL = '0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0';
// Fields 3.. after the comm: state, then 18 fields, then 22 = starttime.
function sample(comm: string, state: string, start: string): string {
  return `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;
}

describe('parseProcStat', () => {
  it('finds state and start time after the last ")" even when comm has ") (" in it', () => {
    expect(parseProcStat(sample('a) (b', 'S', '987654'))).toEqual({ state: 'S', startTime: '987654' });
    expect(parseProcStat(sample(') ) R (', 'Z', '5'))).toEqual({ state: 'Z', startTime: '5' });
    expect(parseProcStat(sample('sleep', 'R', '1'))).toEqual({ state: 'R', startTime: '1' });
  });

  it('returns null for text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('4242 (x) S')).toBeNull();
    expect(parseProcStat(SAMPLE_TAIL)).toBeNull();
  });

  it('reads a live process named "a) (b"', async () => {
    const exe = path.join(tmp, 'a) (b');
    fs.copyFileSync('/bin/sleep', exe);
    fs.chmodSync(exe, 0o755);
    const p = spawn(exe, ['30'], { stdio: 'ignore' });
    kids.push(p);
    const st = await until(() => procStat(p.pid!));
    expect(fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8')).toContain('(a) (b)');
    expect(st.state).toMatch(/^[RS]$/);
    expect(st.startTime).toMatch(/^[0-9]+$/);
    expect(isRunning(p.pid!, st.startTime)).toBe(true);
  });

  it('returns null for a pid that does not exist or is not a pid', () => {
    expect(procStat(2 ** 22 + 1)).toBeNull();
    expect(procStat(0)).toBeNull();
    expect(procStat(-1)).toBeNull();
    expect(procStat(1.5)).toBeNull();
  });
});

describe('isRunning', () => {
  it('is true for a live process with its start time, or with none recorded', () => {
    const st = procStat(process.pid)!;
    expect(isRunning(process.pid, st.startTime)).toBe(true);
    expect(isRunning(process.pid)).toBe(true);
  });

  it('is false for a reused pid (start time differs)', () => {
    const st = procStat(process.pid)!;
    expect(isRunning(process.pid, String(BigInt(st.startTime) + 1n))).toBe(false);
  });

  it('is false for a process that is gone', async () => {
    const p = spawn('sleep', ['30'], { stdio: 'ignore' });
    const st = await until(() => procStat(p.pid!));
    expect(isRunning(p.pid!, st.startTime)).toBe(true);
    p.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));
    await until(() => !procStat(p.pid!)); // reaped by node
    expect(isRunning(p.pid!, st.startTime)).toBe(false);
  });

  it('is false for a zombie', async () => {
    // The first sleep exits after its parent has become the second sleep, which never reaps it.
    const p = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    kids.push(p);
    const pid = Number(await new Promise<string>((r) => p.stdout!.once('data', (d) => r(String(d)))));
    const st = await until(() => (procStat(pid)?.state === 'Z' ? procStat(pid) : null));
    expect(st.state).toBe('Z');
    expect(isRunning(pid, st.startTime)).toBe(false);
    expect(isRunning(pid)).toBe(false);
  });
});

describe('deriveStatus', () => {
  const dir = () => tmp;
  const me = () => ({ pid: process.pid, pidStartTime: procStat(process.pid)!.startTime });

  it('creating: no pid recorded yet', () => {
    expect(deriveStatus(record(), dir())).toBe('creating');
    expect(deriveStatus(record({ pid: 0 }), dir())).toBe('creating');
    const creator = procStat(process.pid)!;
    expect(deriveStatus(record({ creatorPid: process.pid, creatorStartTime: creator.startTime }), dir())).toBe('creating');
  });

  it('stopped: the create process died before it recorded a pid', () => {
    expect(deriveStatus(record({ creatorPid: 2 ** 22 + 1, creatorStartTime: '1' }), dir())).toBe('stopped');
    expect(deriveStatus(record({ creatorPid: process.pid, creatorStartTime: '1' }), dir())).toBe('stopped');
  });

  it('created: the process lives and exec.fifo is still there', () => {
    fs.writeFileSync(path.join(tmp, 'exec.fifo'), '');
    try {
      expect(deriveStatus(record(me()), dir())).toBe('created');
    } finally {
      fs.rmSync(path.join(tmp, 'exec.fifo'));
    }
  });

  it('running: the process lives and exec.fifo is gone', () => {
    expect(deriveStatus(record(me()), dir())).toBe('running');
  });

  it('stopped: the process is gone, or its pid now belongs to another process', () => {
    fs.writeFileSync(path.join(tmp, 'exec.fifo'), '');
    try {
      expect(deriveStatus(record({ pid: 2 ** 22 + 1, pidStartTime: '1' }), dir())).toBe('stopped');
      expect(deriveStatus(record({ pid: process.pid, pidStartTime: '1' }), dir())).toBe('stopped');
    } finally {
      fs.rmSync(path.join(tmp, 'exec.fifo'));
    }
  });
});

describe('stateJson', () => {
  it("prints the runtime-spec state with runc's extra fields", () => {
    const out = stateJson(record({ pid: 77, annotations: { k: 'v' }, ns: { net: 'x' }, secret: 1 }), 'running');
    expect(out).toEqual({
      ociVersion: '1.0.2',
      id: 'c1',
      pid: 77,
      status: 'running',
      bundle: '/b',
      rootfs: '/b/rootfs',
      created: '2026-01-01T00:00:00Z',
      owner: 'root',
      annotations: { k: 'v' },
    });
  });

  it('reports pid 0 once stopped or while creating (as runc), and always an annotations object', () => {
    expect(stateJson(record({ pid: 77 }), 'stopped').pid).toBe(0);
    expect(stateJson(record(), 'creating').pid).toBe(0);
    expect(stateJson(record({ pid: 77 }), 'created').pid).toBe(77);
    const bare = record();
    delete (bare as Partial<ContainerRecord>).annotations;
    expect(stateJson(bare, 'stopped').annotations).toEqual({});
  });
});
