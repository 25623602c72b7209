// Signals, extra fds and the container's processes: run forwarding, kill --all,
// ps, --preserve-fds. As root and as an unprivileged user without subuids.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, scratch, makeBundle, asArgv, defaultEnv, waitFor, isAlive, EXE, type As } from '../helpers/runtime';

describe.each<As>(['root', 'user'])('processes as %s', (as) => {
  it('run forwards SIGTERM to the container and exits with its status', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'];
    });
    const argv = asArgv(as, [EXE, '--root', root, 'run', '--bundle', bundle, 'sig'], defaultEnv(as));
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const status = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await waitFor(() => out.includes('ready'));
    child.kill('SIGTERM');
    expect(await status).toBe(7);
    expect(out).toContain('got-term');
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('ps lists every process; kill --all signals them all', async () => {
    const root = scratch(as);
    // No pid namespace: the background sleeps are not killed with pid 1, so --all matters.
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    });
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'all'], { as }).status).toBe(0);
    expect(chroci(['--root', root, 'start', 'all'], { as }).status).toBe(0);
    let pids: number[] = [];
    await waitFor(() => {
      pids = JSON.parse(chroci(['--root', root, 'ps', '--format', 'json', 'all'], { as }).stdout);
      return pids.length === 3;
    });
    const table = chroci(['--root', root, 'ps', 'all'], { as }).stdout;
    expect(table).toMatch(/^PID\s+CMD\n/);
    expect(table.match(/^\d+\s+sleep 1000$/gm)).toHaveLength(2);
    expect(chroci(['--root', root, 'kill', '--all', 'all', 'KILL'], { as }).status).toBe(0);
    await waitFor(() => pids.every((p) => !isAlive(p)));
    expect(chroci(['--root', root, 'delete', 'all'], { as }).status).toBe(0);
  });

  it('--preserve-fds passes fd 3 and nothing else', async () => {
    const root = scratch(as);
    const dir = scratch(as);
    const file = path.join(dir, 'extra');
    fs.writeFileSync(file, 'from fd 3\n');
    fs.chmodSync(file, 0o644);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sh', '-c', 'cat <&3; ls /proc/self/fd | tr "\\n" " "'];
    });
    const argv = asArgv(as, [EXE, '--root', root, 'run', '--preserve-fds', '1', '--bundle', bundle, 'fds'], defaultEnv(as));
    const fd = fs.openSync(file, 'r');
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', fd] });
    fs.closeSync(fd);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
    // ls itself opens one more fd (4) for /proc/self/fd.
    expect(out).toBe('from fd 3\n0 1 2 3 4 ');
  });
});
