// What containerd's shim and Docker rely on beyond the buildah/podman paths:
// runc's wording for a stopped or missing container, HOME from the image's
// /etc/passwd when the environment has none (ctr and Docker send none), and a
// state root shared with other runtimes (Docker gives runc, crun and us one).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, scratch, makeBundle, chownTree, waitFor, type As } from '../helpers/runtime';

const sh = (script: string) => (c: any) => {
  c.process.args = ['sh', '-c', script];
  c.process.env = ['PATH=/bin'];
};

describe.each<As>(['root', 'user'])('engine compatibility as %s', (as) => {
  const rt = (root: string, ...a: string[]) => chroci(['--root', root, ...a], { as });
  const status = (root: string, id: string) => JSON.parse(rt(root, 'state', id).stdout || '{}').status;

  it('kill of a stopped container says "container not running" (the shim matches it); kill --all exits 0 like runc', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, sh('true'));
    expect(rt(root, 'create', '--bundle', bundle, 'k1').status).toBe(0);
    expect(rt(root, 'start', 'k1').status).toBe(0);
    await waitFor(() => status(root, 'k1') === 'stopped');
    for (const sig of ['9', '15', 'KILL']) {
      const k = rt(root, 'kill', 'k1', sig);
      expect(k.status).toBe(1);
      expect(k.stderr).toMatch(/^ch-run-oci: container "k1": container not running \(status stopped\)\n$/);
    }
    // The JSON log the shim reads has the same text as its last error.
    const log = path.join(bundle, 'log.json');
    chroci(['--root', root, '--log', log, '--log-format', 'json', 'kill', 'k1', '9'], { as });
    const last = fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.level === 'error')
      .pop();
    expect(last.msg).toMatch(/container not running/);
    expect(rt(root, 'kill', '--all', 'k1', '9').status).toBe(0);
    const missing = rt(root, 'kill', 'nope', '9');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(rt(root, 'delete', 'k1').status).toBe(0);
  });

  it('HOME comes from the image\'s /etc/passwd for the process uid when the environment has none (create and exec), else "/"', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sleep', '100'];
      c.process.env = ['PATH=/bin'];
    });
    fs.writeFileSync(path.join(bundle, 'rootfs/etc/passwd'), 'root:x:0:0:root:/root/home:/bin/sh\n');
    chownTree(bundle, as);
    try {
      expect(rt(root, 'create', '--bundle', bundle, 'h1').status).toBe(0);
      expect(rt(root, 'start', 'h1').status).toBe(0);
      expect(rt(root, 'exec', 'h1', 'cat', '/proc/1/environ').stdout.split('\0')).toContain('HOME=/root/home');
      // exec's own process: the same rule (its env here is the container's, without HOME).
      expect(rt(root, 'exec', 'h1', 'sh', '-c', 'echo "[$HOME]"').stdout).toBe('[/root/home]\n');
      // An environment that has HOME keeps it; an empty HOME counts as none (runc).
      expect(rt(root, 'exec', '-e', 'HOME=/mine', 'h1', 'sh', '-c', 'echo "[$HOME]"').stdout).toBe('[/mine]\n');
      expect(rt(root, 'exec', '-e', 'HOME=', 'h1', 'sh', '-c', 'env | grep -c ^HOME=; echo "[$HOME]"').stdout).toBe('1\n[/root/home]\n');
    } finally {
      rt(root, 'delete', '--force', 'h1');
    }
  });

  // HOME as `run` shows it, after PREPARE(rootfs) changed the image.
  const homeAfter = (prepare: (rootfs: string) => void, user?: { uid: number; gid: number }): string => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      sh('echo "[$HOME]"')(c);
      if (user) c.process.user = user;
    });
    prepare(path.join(bundle, 'rootfs'));
    chownTree(bundle, as);
    const r = rt(root, 'run', '--bundle', bundle, 'h');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.trim();
  };
  const passwd = (rootfs: string, text: string) => fs.writeFileSync(path.join(rootfs, 'etc/passwd'), text);

  it('HOME: first entry of the uid wins; no entry, no file or an empty home field give "/"', () => {
    expect(homeAfter((r) => passwd(r, 'x:x:1:1::/one:/bin/sh\nroot:x:0:0::/first:/bin/sh\nroot2:x:0:0::/second:/bin/sh\n'))).toBe(
      '[/first]',
    );
    expect(homeAfter((r) => passwd(r, 'other:x:7:7::/home/other:/bin/sh\n'))).toBe('[/]');
    expect(homeAfter((r) => fs.rmSync(path.join(r, 'etc/passwd')))).toBe('[/]');
    expect(homeAfter((r) => passwd(r, 'root:x:0:0::'))).toBe('[/]');
    // "00" is uid 0 as a number; "0x0" and a 0 in another field are not.
    expect(homeAfter((r) => passwd(r, 'a:x:0x0:0::/hex:/bin/sh\nb:x:1:0::/gid:/bin/sh\nc:x:00:0::/zeros:/bin/sh\n'))).toBe('[/zeros]');
  });

  if (as === 'root') {
    it('HOME follows process.user.uid', () => {
      expect(homeAfter((r) => passwd(r, 'root:x:0:0::/root:/bin/sh\nd:x:1:1::/daemon-home:/bin/sh\n'), { uid: 1, gid: 1 })).toBe(
        '[/daemon-home]',
      );
    });
  }

  // The image is hostile: /etc/passwd is read inside the container's root,
  // never through a magic link, never blocking, and only its first MiB.
  it('HOME: symlinks resolve inside the rootfs; magic links, fifos and huge files give "/"', () => {
    const real = (r: string) => fs.writeFileSync(path.join(r, 'etc/real'), 'root:x:0:0::/inside:/bin/sh\n');
    const link = (target: string) => (r: string) => {
      real(r);
      fs.rmSync(path.join(r, 'etc/passwd'));
      fs.symlinkSync(target, path.join(r, 'etc/passwd'));
    };
    expect(homeAfter(link('real'))).toBe('[/inside]');
    expect(homeAfter(link('/etc/real'))).toBe('[/inside]');
    expect(homeAfter(link('../../../../../../etc/real'))).toBe('[/inside]');
    // The same file through /proc/self/cwd (a magic link) is not read.
    expect(homeAfter(link('/proc/self/cwd/etc/real'))).toBe('[/]');
    expect(homeAfter(link('/proc/self/root/etc/real'))).toBe('[/]');
    expect(
      homeAfter((r) => {
        fs.rmSync(path.join(r, 'etc/passwd'));
        execFileSync('mkfifo', [path.join(r, 'etc/passwd')]);
      }),
    ).toBe('[/]');
    expect(
      homeAfter((r) => {
        fs.rmSync(path.join(r, 'etc/passwd'));
        fs.mkdirSync(path.join(r, 'etc/passwd'));
      }),
    ).toBe('[/]');
    // An entry past the first MiB is not seen.
    expect(homeAfter((r) => passwd(r, '#'.repeat(1 << 20) + '\nroot:x:0:0::/late:/bin/sh\n'))).toBe('[/]');
    expect(homeAfter((r) => passwd(r, '#'.repeat((1 << 20) - 100) + '\nroot:x:0:0::/early:/bin/sh\n'))).toBe('[/early]');
  });

  // Docker passes one --root to every runtime: runc's and crun's directories sit beside ours.
  it("list skips other runtimes' state directories (a --debug note says so); state, kill and delete treat them as missing and leave them alone", () => {
    const root = scratch(as);
    const runcDir = path.join(root, 'runc-one');
    const crunDir = path.join(root, 'crun-one');
    fs.mkdirSync(runcDir);
    fs.writeFileSync(
      path.join(runcDir, 'state.json'),
      JSON.stringify({ id: 'runc-one', init_process_pid: 1, init_process_start: 1, created: '2026-01-01T00:00:00Z', config: {} }),
    );
    fs.mkdirSync(crunDir);
    fs.writeFileSync(path.join(crunDir, 'status'), '{"pid":1}');
    fs.writeFileSync(path.join(crunDir, 'config.json'), '{}');
    chownTree(root, as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sleep', '100'];
    });
    expect(rt(root, 'create', '--bundle', bundle, 'ours').status).toBe(0);
    try {
      const l = rt(root, 'list', '--format', 'json');
      expect(l.stderr).toBe('');
      expect(l.status).toBe(0);
      expect(JSON.parse(l.stdout).map((x: any) => x.id)).toEqual(['ours']);
      const table = rt(root, 'list');
      expect(table.status).toBe(0);
      expect(
        table.stdout
          .trim()
          .split('\n')
          .map((x) => x.split(/\s+/)[0]),
      ).toEqual(['ID', 'ours']);
      const dbg = chroci(['--root', root, '--debug', 'list', '-q'], { as });
      expect(dbg.stdout).toBe('ours\n');
      expect(dbg.stderr).toMatch(/runc-one: not a ch-run-oci state directory/);
      expect(dbg.stderr).toMatch(/crun-one: not a ch-run-oci state directory/);
      for (const id of ['runc-one', 'crun-one']) {
        for (const verb of [
          ['state', id],
          ['kill', id, '9'],
          ['delete', id],
        ]) {
          const r = rt(root, ...verb);
          expect(r.status, verb.join(' ')).toBe(1);
          expect(r.stderr).toMatch(/does not exist/);
        }
        expect(rt(root, 'delete', '--force', id).status).toBe(0);
        const c = rt(root, 'create', '--bundle', bundle, id);
        expect(c.status).toBe(1);
        expect(c.stderr).toMatch(/already exists/);
      }
      expect(fs.readdirSync(runcDir)).toEqual(['state.json']);
      expect(fs.readdirSync(crunDir).sort()).toEqual(['config.json', 'status']);
    } finally {
      rt(root, 'delete', '--force', 'ours');
    }
  });
});
