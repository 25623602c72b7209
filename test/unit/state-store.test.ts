import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/store';
import type { ContainerRecord } from '../../src/state/record';
import { deriveStatus } from '../../src/state/status';
import { UserError } from '../../src/errors';
import { removeStateChild, stateChild } from '../helpers/state-build';

let root: string;
let store: StateStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'state-store-'));
  store = new StateStore(root);
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
afterAll(removeStateChild);

function rec(id: string, n: number, extra: Record<string, unknown> = {}): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-01-01T00:00:00Z',
    owner: 'root',
    annotations: { a: 'b' },
    n,
    ...extra,
  };
}

function child(...args: string[]) {
  return spawnSync(process.execPath, [stateChild(), ...args], { encoding: 'utf8' });
}

function exited(p: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => p.on('exit', (code) => resolve(code)));
}

describe('StateStore basics', () => {
  it('claims an id once; a second claim says "already exists"', () => {
    const dir = store.claim('c1');
    expect(dir).toBe(path.join(root, 'c1'));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(() => store.claim('c1')).toThrow(new UserError('container "c1"', 'already exists'));
  });

  it('round-trips a record, keeping extra fields, with a 0600 state file', () => {
    store.claim('c1');
    store.write('c1', rec('c1', 1, { ns: { net: '/proc/1/ns/net' }, pid: 42, pidStartTime: '99' }));
    expect(store.read('c1')).toEqual(rec('c1', 1, { ns: { net: '/proc/1/ns/net' }, pid: 42, pidStartTime: '99' }));
    expect(fs.statSync(path.join(root, 'c1', 'state.json')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.join(root, 'c1'))).toEqual(['state.json']); // no temp files left
  });

  it('says "does not exist" for a missing container (podman matches that text)', () => {
    expect(() => store.read('nope')).toThrow('container "nope": does not exist');
    expect(() => store.write('nope', rec('nope', 1))).toThrow('container "nope": does not exist');
    expect(store.exists('nope')).toBe(false);
  });

  it('reads a claimed directory without state as a record that derives "creating"', () => {
    store.claim('c1');
    const r = store.read('c1');
    expect(r.pid).toBeUndefined();
    expect(r.annotations).toEqual({});
    expect(deriveStatus(r, store.dir('c1'))).toBe('creating');
  });

  it('reports a corrupt state file in one line', () => {
    store.claim('c1');
    fs.writeFileSync(path.join(root, 'c1', 'state.json'), '{"id": "c1", "tru');
    expect(() => store.read('c1')).toThrow(`container "c1": state file ${root}/c1/state.json is corrupt (not a state record)`);
  });

  it('lists container ids sorted, skipping lock directories and files', async () => {
    for (const id of ['b', 'a', 'c10', 'c9']) store.claim(id);
    fs.writeFileSync(path.join(root, 'stray'), '');
    await store.withLock('a', () => {
      expect(fs.existsSync(path.join(root, '.a.lock'))).toBe(true);
      expect(store.list()).toEqual(['a', 'b', 'c10', 'c9']);
    });
    expect(new StateStore(path.join(root, 'missing')).list()).toEqual([]);
  });

  it('removes a container idempotently', () => {
    store.claim('c1');
    store.write('c1', rec('c1', 1));
    fs.writeFileSync(path.join(root, 'c1', 'exec.fifo'), '');
    store.remove('c1');
    expect(store.exists('c1')).toBe(false);
    store.remove('c1');
    expect(store.list()).toEqual([]);
    store.claim('c1'); // the id may be reused
  });

  it('rejects bad ids before touching the file system', () => {
    expect(() => store.claim('../x')).toThrow('container id "../x": must not contain "/"');
    expect(() => store.read('..')).toThrow('container id "..": is a reserved name');
    expect(() => store.remove('')).toThrow('container id "": must not be empty');
  });

  it('can delete the container directory while holding its lock', async () => {
    store.claim('c1');
    await store.withLock('c1', () => store.remove('c1'));
    expect(fs.readdirSync(root)).toEqual([]);
    await store.withLock('c1', () => undefined); // the lock is free again
  });

  it('releases the lock when fn throws and passes the error on', async () => {
    store.claim('c1');
    await expect(store.withLock('c1', () => Promise.reject(new UserError('x', 'y')))).rejects.toThrow('x: y');
    expect(await store.withLock('c1', () => 7)).toBe(7);
  });

  it('gives up on a busy lock after the bounded wait with one line', async () => {
    store.claim('c1');
    const quick = new StateStore(root, { waitMs: 300 });
    await store.withLock('c1', async () => {
      const t0 = Date.now();
      await expect(quick.withLock('c1', () => undefined)).rejects.toThrow(
        `container "c1": busy: another ch-run-oci process holds ${root}/.c1.lock`,
      );
      expect(Date.now() - t0).toBeLessThan(2000);
    });
  });
});

describe('StateStore across processes', () => {
  it('a crash between the temp write and the rename leaves the old state readable', () => {
    store.claim('c1');
    store.write('c1', rec('c1', 1));
    const r = child('write-crash', root, 'c1');
    expect(r.signal).toBe('SIGKILL');
    const left = fs.readdirSync(path.join(root, 'c1'));
    expect(left.some((f) => f.endsWith('.tmp'))).toBe(true); // it did die after writing the temp file
    expect(store.read('c1')).toEqual(rec('c1', 1));
    store.write('c1', rec('c1', 3));
    expect(store.read('c1').n).toBe(3);
    expect(store.list()).toEqual(['c1']);
  });

  it('readers racing a writer never see a half-written record', async () => {
    store.claim('c1');
    store.write('c1', rec('c1', 0, { size: 0, pad: '', done: false }));
    const writer = spawn(process.execPath, [stateChild(), 'writer', root, 'c1', '400'], { stdio: 'inherit' });
    const done = exited(writer);
    let reads = 0;
    let last = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      // Synchronous bursts between yields: many reads land mid-write.
      let finished = false;
      for (let i = 0; i < 50; i++) {
        const r = store.read('c1');
        reads++;
        expect((r.pad as string).length).toBe(r.size);
        expect(r.n as number).toBeGreaterThanOrEqual(last);
        last = r.n as number;
        if (r.done) finished = true;
      }
      if (finished || Date.now() > deadline) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await done).toBe(0);
    expect(last).toBe(400);
    expect(reads).toBeGreaterThan(400);
  }, 70_000);

  it('two processes incrementing one counter under the lock lose no update', async () => {
    store.claim('c1');
    store.write('c1', rec('c1', 0));
    const n = 150;
    const kids = [1, 2].map(() => spawn(process.execPath, [stateChild(), 'counter', root, 'c1', String(n)], { stdio: 'inherit' }));
    expect(await Promise.all(kids.map(exited))).toEqual([0, 0]);
    expect(store.read('c1').n).toBe(2 * n);
    expect(fs.existsSync(store.lockPath('c1'))).toBe(false);
  }, 60_000);

  it('removes the temporary lock names a holder killed mid-step left, and keeps a live one', async () => {
    // A create SIGKILLed between mkdir and rename of its lock (`.new-`), or
    // between rename and delete on release (`.gone-`), left these for good.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const mine = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19];
    const lock = store.lockPath('c1');
    const left = [`${lock}.new-${dead}-1-5-1`, `${lock}.gone-${dead}-2-6-2`];
    const live = `${lock}.new-${process.pid}-${mine}-7-3`;
    for (const d of [...left, live]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(left[1], `holder-${dead}-2`), '');
    store.claim('c1');
    await store.withLock('c1', () => undefined);
    for (const d of left) expect(fs.existsSync(d), d).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('recovers a lock left by a SIGKILLed holder within bounded time', async () => {
    store.claim('c1');
    const holder = spawn(process.execPath, [stateChild(), 'hold-lock', root, 'c1', '2000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await exited(holder);
    expect(fs.existsSync(store.lockPath('c1'))).toBe(true); // SIGKILL gave it no chance to clean up
    const t0 = Date.now();
    const waiter = new StateStore(root, { waitMs: 8000 });
    expect(await waiter.withLock('c1', () => 'mine')).toBe('mine');
    const waited = Date.now() - t0;
    expect(waited).toBeLessThan(5000);
  }, 20_000);

  it('waiters racing for an old lock of a SIGKILLed holder take it one at a time', async () => {
    store.claim('c1');
    for (let round = 0; round < 4; round++) {
      const holder = spawn(process.execPath, [stateChild(), 'hold-lock', root, 'c1', '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      holder.kill('SIGKILL');
      await exited(holder);
      // Old enough for proper-lockfile's own stale rule too: both rules race here.
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(store.lockPath('c1'), old, old);
      const at = String(Date.now() + 700);
      const kids = Array.from({ length: 6 }, () =>
        spawn(process.execPath, [stateChild(), 'exclusive', root, 'c1', at], { stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      const outs = kids.map(
        (k) =>
          new Promise<string>((resolve) => {
            let text = '';
            k.stdout!.on('data', (d) => (text += d));
            k.stderr!.on('data', (d) => (text += d));
            k.on('close', () => resolve(text));
          }),
      );
      const codes = await Promise.all(kids.map(exited));
      const texts = await Promise.all(outs);
      expect(codes, texts.join('')).toEqual(kids.map(() => 0));
      expect(texts.map((o) => JSON.parse(o).overlap)).toEqual(kids.map(() => false));
      expect(fs.existsSync(store.lockPath('c1'))).toBe(false);
    }
  }, 60_000);

  it('an old lock whose holder lives (stopped by a signal) is busy, not an error', async () => {
    store.claim('c1');
    const holder = spawn(process.execPath, [stateChild(), 'hold-lock', root, 'c1', '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    holder.kill('SIGSTOP');
    try {
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(store.lockPath('c1'), old, old);
      const waiter = new StateStore(root, { waitMs: 300 });
      await expect(waiter.withLock('c1', () => 'mine')).rejects.toThrow(/busy: another ch-run-oci process holds/);
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  }, 20_000);

  it('the state path does not load proper-lockfile (it hooks signals when loaded)', () => {
    store.claim('c1');
    store.write('c1', rec('c1', 0));
    const r = child('hot', root, 'c1');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: 'creating', before: 0, after: expect.any(Number) });
    expect(JSON.parse(r.stdout).after).toBeGreaterThan(0); // proof that loading it does hook them
  });
});

// Docker gives every runtime one state root: runc's and crun's directories sit beside ours.
describe("other runtimes' directories in the state root", () => {
  it('are foreign and "do not exist"; ours without state.json (mid-create, half-deleted) are not', () => {
    fs.mkdirSync(path.join(root, 'runc1'));
    fs.writeFileSync(path.join(root, 'runc1', 'state.json'), JSON.stringify({ id: 'runc1', init_process_pid: 1, config: {} }));
    fs.mkdirSync(path.join(root, 'crun1'));
    fs.writeFileSync(path.join(root, 'crun1', 'status'), '{}');
    fs.mkdirSync(path.join(root, 'claimed'));
    fs.mkdirSync(path.join(root, 'halfgone'));
    fs.writeFileSync(path.join(root, 'halfgone', 'exec.fifo'), '');
    store.claim('ours');
    store.write('ours', rec('ours', 1));
    for (const id of ['runc1', 'crun1']) {
      expect(store.foreign(id)).toBe(true);
      expect(() => store.read(id)).toThrow(`container "${id}": does not exist`);
    }
    for (const id of ['claimed', 'halfgone', 'ours', 'missing']) expect(store.foreign(id)).toBe(false);
    expect(store.read('claimed').pid).toBeUndefined();
    expect(store.read('ours').n).toBe(1);
  });
});
