// What scripts/setup-clients configured, checked through podman itself and
// independent of RUNTIME: a logging wrapper in front of crun stands in for
// the runtime, so these pass or fail with the machine, not with ch-run-oci.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILT } from '../helpers/repo';
import { BUSYBOX, WHO, type Who, run, show } from './helpers';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync('/var/tmp/chroci-wrap-');
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'calls'), { mode: 0o1777 });
  fs.chmodSync(path.join(dir, 'calls'), 0o1777);
  // podman matches runtime_supports_json against the base name of the
  // runtime path, so the same wrapper under two names behaves differently.
  const wrapper = `#!/bin/sh\nprintf '%s\\n' "$@" > "$(mktemp ${dir}/calls/$(basename "$0").XXXXXX)"\nexec /usr/bin/crun "$@"\n`;
  for (const n of ['ch-run-oci', 'not-listed-runtime']) {
    fs.mkdirSync(path.join(dir, n));
    fs.writeFileSync(path.join(dir, n, n), wrapper, { mode: 0o755 });
  }
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** argv of every `create` podman (conmon) ran through the wrapper called NAME. */
function creates(name: string): string[][] {
  const calls = path.join(dir, 'calls');
  return fs
    .readdirSync(calls)
    .filter((f) => f.startsWith(`${name}.`))
    .map((f) => fs.readFileSync(path.join(calls, f), 'utf8').trimEnd().split('\n'))
    .filter((argv) => argv.includes('create'));
}

describe.each(WHO)('containers.conf as seen by podman as %s', (who: Who) => {
  beforeAll(() => {
    for (const f of fs.readdirSync(path.join(dir, 'calls'))) fs.rmSync(path.join(dir, 'calls', f));
  });

  it('a runtime path ending in /ch-run-oci gets --log-format=json --log FILE (runtime_supports_json)', () => {
    const r = run(who, ['podman', '--runtime', path.join(dir, 'ch-run-oci', 'ch-run-oci'), 'run', '--rm', BUSYBOX, 'true']);
    expect(r.status, show(r)).toBe(0);
    const [argv] = creates('ch-run-oci');
    expect(argv, 'no create seen').toBeDefined();
    expect(argv).toContain('--log-format=json');
    expect(argv.some((a) => a.startsWith('--log=') || a === '--log')).toBe(true);
  });

  it('a runtime whose name is not listed gets no JSON log flags', () => {
    const r = run(who, ['podman', '--runtime', path.join(dir, 'not-listed-runtime', 'not-listed-runtime'), 'run', '--rm', BUSYBOX, 'true']);
    expect(r.status, show(r)).toBe(0);
    const [argv] = creates('not-listed-runtime');
    expect(argv, 'no create seen').toBeDefined();
    expect(argv).not.toContain('--log-format=json');
  });

  it.runIf(fs.existsSync(BUILT))("--runtime ch-run-oci (by name) is the repository's dist/ch-run-oci", () => {
    const r = run(who, ['podman', '--runtime', 'ch-run-oci', 'info', '--format', '{{.Host.OCIRuntime.Path}}']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.trim()).toBe(BUILT);
  });

  it('cgroup manager cgroupfs and file events logger (no systemd here)', () => {
    const r = run(who, ['podman', 'info', '--format', '{{.Host.CgroupManager}} {{.Host.EventLogger}}']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.trim()).toBe('cgroupfs file');
  });
});
