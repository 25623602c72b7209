import { describe, expect, it } from 'vitest';
import { capEffHasSetIds, covers, parseIdMap, planIds, readCallerIds, type CallerIds } from '../../src/container/idmap';
import { mapText } from '../../src/runner/plan';
import type { OciConfig } from '../../src/spec/types';

const root: CallerIds = {
  euid: 0,
  egid: 0,
  uidMap: parseIdMap('         0          0 4294967295\n'),
  gidMap: parseIdMap('         0          0 4294967295\n'),
  canSetIds: true,
};
// buildah's rootless namespace: euid 0 with caps, own uid 1000 plus a subuid range.
const buildah: CallerIds = {
  euid: 0,
  egid: 0,
  uidMap: parseIdMap('0 1000 1\n1 100000 65536\n'),
  gidMap: parseIdMap('0 1000 1\n1 100000 65536\n'),
  canSetIds: true,
};
const plain: CallerIds = {
  euid: 1000,
  egid: 1000,
  uidMap: parseIdMap('0 0 4294967295'),
  gidMap: parseIdMap('0 0 4294967295'),
  canSetIds: false,
};

function cfg(user: object, linux: object = {}): OciConfig {
  return { ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', user }, linux } as OciConfig;
}

describe('caller ids', () => {
  it('reads this process from /proc', () => {
    const c = readCallerIds();
    expect(c.euid).toBe(process.geteuid!());
    expect(c.uidMap.length).toBeGreaterThan(0);
    expect(c.canSetIds).toBe(process.geteuid!() === 0);
  });
  it('parses /proc/self/uid_map lines', () => {
    expect(parseIdMap('         0       1000          1\n         1     100000      65536\n')).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 100000, count: 65536 },
    ]);
  });
  it('reads CAP_SETUID and CAP_SETGID from CapEff', () => {
    expect(capEffHasSetIds('Name:\tx\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(capEffHasSetIds('CapEff:\t0000000000000040\n')).toBe(false); // SETGID only
    expect(capEffHasSetIds('CapEff:\t0000000000000000\n')).toBe(false);
  });
  it('covers ranges that touch', () => {
    const m = parseIdMap('0 1000 1\n1 100000 65536');
    expect(covers(m, 0, 65537)).toBe(true);
    expect(covers(m, 65537)).toBe(false);
  });
});

describe('planIds', () => {
  it('root maps its whole range one-to-one and may set groups', () => {
    const p = planIds(cfg({ uid: 1000, gid: 100, additionalGids: [10, 20] }), root);
    expect(mapText(p.uidMap)).toBe('0 0 4294967295\n');
    expect(p).toMatchObject({ uid: 1000, gid: 100, setgroups: true, groups: [10, 20] });
  });
  it('in buildah rootless mode maps the namespace ids to themselves', () => {
    const p = planIds(cfg({ uid: 0, gid: 0, additionalGids: [0] }), buildah);
    expect(mapText(p.uidMap)).toBe('0 0 1\n1 1 65536\n');
    expect(p.groups).toEqual([0]);
  });
  it('refuses a process user outside the caller ranges', () => {
    expect(() => planIds(cfg({ uid: 70000 }), buildah)).toThrow(/process\.user\.uid: 70000 is not mapped/);
  });
  it('run.oci.keep_original_groups=1 (podman --group-add keep-groups): setgroups is never called', () => {
    const c = { ...cfg({ uid: 0, gid: 0, additionalGids: [10] }), annotations: { 'run.oci.keep_original_groups': '1' } } as OciConfig;
    for (const who of [root, buildah, plain]) expect(planIds(c, who).groups).toBeNull();
  });
  it("set-up ids: the container root (as the caller sees it) when the caller's own ids are not mapped", () => {
    const maps = {
      uidMappings: [{ containerID: 0, hostID: 200000, size: 1000 }],
      gidMappings: [{ containerID: 0, hostID: 300000, size: 1000 }],
    };
    expect(planIds(cfg({ uid: 5, gid: 6 }, maps), root).setupIds).toEqual({ uid: 0, gid: 0, hostUid: 200000, hostGid: 300000 });
    expect(planIds(cfg({}), root).setupIds).toBeUndefined();
    expect(planIds(cfg({}), plain).setupIds).toBeUndefined();
  });
  it('drops unmapped additional gids with several ids', () => {
    expect(planIds(cfg({ additionalGids: [5, 99999] }), buildah).groups).toEqual([5]);
  });
  it('plain user: its own id becomes process.user, setgroups denied, groups dropped', () => {
    const p = planIds(cfg({ uid: 0, gid: 0, additionalGids: [10] }), plain);
    expect(mapText(p.uidMap)).toBe('0 1000 1\n');
    expect(mapText(p.gidMap)).toBe('0 1000 1\n');
    expect(p).toMatchObject({ setgroups: false, groups: null });
    const q = planIds(cfg({ uid: 1000, gid: 1000 }), plain);
    expect(mapText(q.uidMap)).toBe('1000 1000 1\n');
  });
  it('honours explicit mappings within the caller ranges', () => {
    // host ids are ids of the caller's namespace (0..65536 in buildah's)
    const m = { uidMappings: [{ containerID: 0, hostID: 1, size: 1000 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1000 }] };
    const p = planIds(cfg({ uid: 5 }, m), buildah);
    expect(mapText(p.uidMap)).toBe('0 1 1000\n');
  });
  it('refuses explicit mappings of host ids the caller does not hold', () => {
    const m = { uidMappings: [{ containerID: 0, hostID: 200000, size: 1000 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] };
    expect(() => planIds(cfg({}, m), buildah)).toThrow(/^linux\.uidMappings: host ids 200000-200999 are not mapped/);
  });
  it('lets a plain user map its own id explicitly, and nothing else', () => {
    const own = { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] };
    expect(planIds(cfg({}, own), plain).setgroups).toBe(false);
    const more = { uidMappings: [{ containerID: 0, hostID: 1000, size: 2 }], gidMappings: own.gidMappings };
    expect(() => planIds(cfg({}, more), plain)).toThrow(/^linux\.uidMappings: an unprivileged user can map only its own id/);
  });
  it('needs both explicit maps', () => {
    expect(() => planIds(cfg({}, { uidMappings: [{ containerID: 0, hostID: 0, size: 1 }] }), root)).toThrow(/linux\.uidMappings/);
  });
});
