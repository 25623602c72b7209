// When the fake-root filter is planned: auto = single-id user namespace only,
// the annotation overrides, unknown host architectures get none; --debug says so.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeProgram, fakerootProgram, idRules, isSingleId, planFakeroot } from '../../src/container/fakeroot';
import { idRuleText } from '../../src/runner/plan';
import { buildPlan } from '../../src/container/plan';
import { parseIdMap } from '../../src/container/idmap';
import { planRecords } from '../../src/runner/protocol';
import { configureLog } from '../../src/log';
import type { OciConfig } from '../../src/spec/types';

const single = { uidMap: parseIdMap('0 1000 1'), gidMap: parseIdMap('0 1000 1') };
const multi = { uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295') };
const subids = { uidMap: parseIdMap('0 1000 1\n1 100000 65536'), gidMap: parseIdMap('0 1000 1\n1 100000 65536') };

function config(fakeroot?: string, extra: Partial<OciConfig> = {}): OciConfig {
  return {
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    ...(fakeroot ? { annotations: { 'ch-run-oci.fakeroot': fakeroot } } : {}),
    ...extra,
  } as unknown as OciConfig;
}

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
  configureLog({ debug: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  configureLog({ debug: false });
});

describe('isSingleId', () => {
  it('one uid or one gid is single; ranges are not', () => {
    expect(isSingleId(single)).toBe(true);
    expect(isSingleId({ uidMap: multi.uidMap, gidMap: single.gidMap })).toBe(true);
    expect(isSingleId(multi)).toBe(false);
    expect(isSingleId(subids)).toBe(false);
  });
});

describe('planFakeroot', () => {
  it.each([
    ['auto (absent)', undefined, single, true],
    ['auto', 'auto', single, true],
    ['auto', 'auto', multi, false],
    ['auto', undefined, subids, false],
    ['always', 'always', multi, true],
    ['always', 'always', single, true],
    ['never', 'never', single, false],
    ['never', 'never', multi, false],
  ] as const)('%s, %#: installed=%s', (_l, mode, ids, on) => {
    const filter = planFakeroot(config(mode), ids, 'x64');
    expect(filter !== undefined).toBe(on);
    if (filter) {
      expect(decodeProgram(filter.program)).toEqual(fakerootProgram('x64'));
      expect(filter.idRules.length).toBeGreaterThan(40);
    }
  });

  it('--debug says when it is active and why', () => {
    planFakeroot(config(), single, 'x64');
    expect(stderr.join('')).toMatch(/debug: fakeroot: active \(single-id user namespace\)/);
    expect(stderr.join('')).toMatch(/fakeroot: owners cannot be recorded with one id mapped/);
    stderr.length = 0;
    planFakeroot(config('always'), multi, 'x64');
    expect(stderr.join('')).toMatch(/fakeroot: active \(ch-run-oci.fakeroot=always\)/);
    stderr.length = 0;
    planFakeroot(config('never'), single, 'x64');
    expect(stderr.join('')).toMatch(/fakeroot: off \(ch-run-oci.fakeroot=never\)/);
    stderr.length = 0;
    planFakeroot(config(), multi, 'x64');
    expect(stderr.join('')).toBe('');
  });

  it('under an enclosing fake root (nested build) none is installed again, and --debug says so; it is asked only when one would be', () => {
    const probe = vi.fn(() => true);
    expect(planFakeroot(config(), single, 'x64', probe)).toBeUndefined();
    expect(stderr.join('')).toMatch(/fakeroot: the enclosing fake root already answers/);
    expect(probe).toHaveBeenCalledTimes(1);
    planFakeroot(config(), multi, 'x64', probe);
    planFakeroot(config('never'), single, 'x64', probe);
    expect(probe).toHaveBeenCalledTimes(1);
    expect(planFakeroot(config(), single, 'x64', () => false)).toBeDefined();
  });

  it('an unknown host architecture: no filter, a debug note, never a guess', () => {
    expect(planFakeroot(config('always'), single, 'riscv64')).toBeUndefined();
    expect(stderr.join('')).toMatch(/fakeroot: not available on riscv64/);
  });

  it("with the config's own linux.seccomp: ours is still installed (the profile goes on top of it)", () => {
    const c = config(undefined, { linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } } as never);
    expect(planFakeroot(c, single, 'x64')).toBeDefined();
  });
});

describe('in the runner plan', () => {
  const ctx = (canSetIds: boolean, map: string) => ({
    bundle: '/b',
    rootfs: '/b/rootfs',
    stateDir: '/s',
    caller: { euid: 1000, egid: 1000, uidMap: parseIdMap(map), gidMap: parseIdMap(map), canSetIds },
    wait: false,
    preserveFds: 0,
  });
  it("single-id caller: a seccomp record holding the program as hex, and the supervisor's rules", () => {
    const plan = buildPlan(config(), ctx(false, '0 0 4294967295'));
    const recs = planRecords(plan);
    const rec = recs.find((r) => r[0] === 'seccomp');
    if (process.arch !== 'x64' && process.arch !== 'arm64') return expect(rec).toBeUndefined();
    expect(rec).toBeDefined();
    expect(rec![1]).toMatch(/^([0-9a-f]{16})+$/);
    expect(decodeProgram(Buffer.from(rec![1], 'hex'))).toEqual(fakerootProgram());
    const ids = recs.find((r) => r[0] === 'fakeids')!;
    expect(ids.slice(1)).toEqual(idRules().map(idRuleText));
    if (process.arch === 'x64') expect(ids).toContain(`${0xc000003e}:117:setresuid:32`);
  });
  it('caller with all ids (root): no seccomp record', () => {
    const plan = buildPlan(config(), ctx(true, '0 0 4294967295'));
    expect(planRecords(plan).map((r) => r[0])).not.toContain('seccomp');
    expect(planRecords(plan).map((r) => r[0])).not.toContain('fakeids');
  });
});
