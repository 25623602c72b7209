// The Debian package (scripts/package): built from dist/, unpacked into a
// scratch root with dpkg -x, and its contents checked: what is where, modes,
// that the packaged executable runs and the man page renders.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../helpers/runtime';

describe('Debian package', () => {
  it('holds the executable, the man page and the containers.conf drop-in', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-deb-'));
    const deb = execFileSync('bash', [path.join(REPO, 'scripts', 'package'), out], { encoding: 'utf8', timeout: 240_000 }).trim();
    const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    expect(path.basename(deb)).toBe(`ch-run-oci_${version}_amd64.deb`);
    const field = (f: string) => execFileSync('dpkg-deb', ['-f', deb, f], { encoding: 'utf8' }).trim();
    expect(field('Package')).toBe('ch-run-oci');
    expect(field('Version')).toBe(version);
    expect(field('Architecture')).toBe('amd64');
    expect(field('Depends')).toMatch(/libc6/);

    // Every file with its mode and owner, as dpkg would install them.
    const listing = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .filter((f) => !f[0].startsWith('d'))
      .map((f) => `${f[0]} ${f[1]} ${f[5]}`);
    expect(listing.sort()).toEqual([
      '-rw-r--r-- root/root ./usr/share/containers/containers.conf.d/50-ch-run-oci.conf',
      '-rw-r--r-- root/root ./usr/share/doc/ch-run-oci/copyright',
      '-rw-r--r-- root/root ./usr/share/man/man1/ch-run-oci.1.gz',
      '-rwxr-xr-x root/root ./usr/bin/ch-run-oci',
    ]);

    const root = path.join(out, 'root');
    execFileSync('dpkg', ['-x', deb, root]);
    const exe = path.join(root, 'usr/bin/ch-run-oci');
    const v = spawnSync(exe, ['--version'], { encoding: 'utf8', env: {} });
    expect(v.status).toBe(0);
    expect(v.stdout.split('\n')[0]).toBe(`ch-run-oci version ${version}`);
    expect(fs.readFileSync(exe).equals(fs.readFileSync(path.join(REPO, 'dist', 'ch-run-oci')))).toBe(true);

    const man = spawnSync('man', ['-l', path.join(root, 'usr/share/man/man1/ch-run-oci.1.gz')], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', MANPAGER: 'cat', MANWIDTH: '100' },
    });
    expect(man.status).toBe(0);
    expect(man.stdout).toMatch(/ch-run-oci/);
    expect(man.stdout).toMatch(/POLICY|policy/);

    const conf = fs.readFileSync(path.join(root, 'usr/share/containers/containers.conf.d/50-ch-run-oci.conf'), 'utf8');
    expect(conf).toMatch(/^ch-run-oci = \["\/usr\/bin\/ch-run-oci"\]$/m);
    expect(conf).toMatch(/^runtime_supports_json = \[.*"ch-run-oci".*\]$/m);
    fs.rmSync(out, { recursive: true, force: true });
  }, 300_000);
});
