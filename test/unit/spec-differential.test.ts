// Differential test: our validator against the upstream OCI schema of the
// config's own version, on real client captures, valid variants and every
// invalid case. They must agree on valid/invalid, except where ch-run-oci is
// deliberately stricter, or accepts what real clients send and upstream's
// schema does not; each such case is listed here with its reason.
// Our schema is the union of 1.0.0 … 1.2: a field added in 1.1 is checked by
// its 1.1 rules even in a "1.0.2-dev" config (podman/buildah send that version
// with newer fields), where the 1.0.2 schema sees an unknown property; the
// invalid cases about such fields therefore carry the version that added them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useValidators, validateConfig } from '../../src/spec/validate';
import { configWith, INVALID } from '../fixtures/configs/invalid-cases';
import { REPO } from '../helpers/repo';
import { ourValidators, sharedConfigs, upstreamTagFor, upstreamValidators } from './spec-validators';

/** Cases we refuse and upstream accepts, and why. */
const STRICTER: Record<string, string> = {
  'ociVersion 2.0.0': 'upstream types ociVersion as any string; we run only 1.x',
  'ociVersion invalid': 'upstream types ociVersion as any string; we run only 1.x (runtime-tools misc_props expects an error)',
  'root missing': 'upstream root is optional; nothing can run without one',
  'process missing': 'upstream process is optional; runtime.md: start must fail without it, we fail at create',
  'process.args missing': 'optional since 1.0.2; we need a program to run (1.0.0 required it too)',
  'process.args empty': 'upstream allows []; there is nothing to execute',
  'oomScoreAdj out of range': 'upstream says integer; the kernel only takes -1000..1000',
  'namespace given twice': 'config-linux.md says a duplicate type is an error; a schema cannot say it',
};

/** Real client configs we accept and upstream's schema refuses, and why. */
const LOOSER: Record<string, string> = {
  'podman-4.3-device.json':
    'podman sends fileMode with the file type bits (8630 = S_IFCHR|0666); upstream caps it at 512, runc and crun take it',
  'podman-4.3-rootless-device.json':
    'rootless podman sends rootfsPropagation "rslave"; upstream lists only the plain names, runc and crun take the recursive ones',
};

interface Case {
  name: string;
  config: Record<string, unknown>;
}

function corpus(): Case[] {
  const validDir = path.join(REPO, 'test/fixtures/configs/valid');
  return [
    ...sharedConfigs()
      .filter((c) => !c.name.includes('exec-process'))
      .map((c) => ({ name: c.name, config: c.json })),
    { name: 'minimal.json', config: configWith(() => {}) },
    ...fs.readdirSync(validDir).map((f) => ({ name: f, config: JSON.parse(fs.readFileSync(path.join(validDir, f), 'utf8')) })),
    ...INVALID.map(([name, edit]) => ({ name, config: configWith(edit) })),
  ];
}

function oursAccepts(config: unknown): boolean {
  try {
    validateConfig(config);
    return true;
  } catch {
    return false;
  }
}

function upstreamAccepts(config: Record<string, unknown>): boolean {
  return upstreamValidators(upstreamTagFor(config.ociVersion)).config(config) === true;
}

describe('our schema vs the upstream schema of the same version', () => {
  beforeAll(() => useValidators(ourValidators()));
  afterAll(() => useValidators(undefined));

  it('the upstream oracle is not vacuous', () => {
    expect(upstreamValidators('v1.0.0').config({ ociVersion: '1.0.0', process: { cwd: '/' } })).toBe(false); // args required in 1.0.0
    expect(upstreamValidators('v1.2.1').config({ ociVersion: '1.2.1', linux: { namespaces: [{ type: 'net' }] } })).toBe(false);
    expect(upstreamValidators('v1.0.2').config({ ociVersion: '1.0.2', process: { cwd: '/' } })).toBe(true);
  });

  it.each(corpus())('$name', ({ name, config }) => {
    const ours = oursAccepts(config);
    const theirs = upstreamAccepts(config);
    if (name in STRICTER) {
      expect({ ours, theirs }).toEqual({ ours: false, theirs: true });
    } else if (name in LOOSER) {
      expect({ ours, theirs }).toEqual({ ours: true, theirs: false });
    } else {
      expect(ours, `ours vs upstream ${upstreamTagFor(config.ociVersion)}`).toBe(theirs);
    }
  });

  it('every listed difference is in the corpus', () => {
    const names = new Set(corpus().map((c) => c.name));
    for (const n of [...Object.keys(STRICTER), ...Object.keys(LOOSER)]) expect(names.has(n), n).toBe(true);
  });
});
