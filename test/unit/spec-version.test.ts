import { describe, expect, it } from 'vitest';
import { checkVersion, isSupportedVersion } from '../../src/spec/version';

describe('ociVersion acceptance', () => {
  it.each([
    '1.0.0',
    '1.0.1',
    '1.0.2',
    '1.0.2-dev', // podman 4.3, buildah 1.28
    '1.0.1-dev',
    '1.1.0-rc.1',
    '1.1.0',
    '1.2.0',
    '1.2.1',
    '1.3.0', // runtime-tools HEAD
    '1.10.20',
    '1.1.0+build.5',
  ])('accepts %s', (v) => {
    expect(isSupportedVersion(v)).toBe(true);
    expect(checkVersion({ ociVersion: v })).toBe(v);
  });

  it.each([
    '0.9.9',
    '1.0.0-rc5', // pre-1.0 drafts had another layout
    '1.0.0-rc.1',
    '2.0.0',
    '2.0.0-dev',
    '1.0',
    '1',
    'v1.0.0',
    '01.0.0',
    '1.0.0.0',
    ' 1.0.0',
    '',
    'invalid', // runtime-tools misc_props
  ])('rejects %j', (v) => {
    expect(isSupportedVersion(v)).toBe(false);
    expect(() => checkVersion({ ociVersion: v })).toThrow(
      `config.json: /ociVersion: unsupported version ${JSON.stringify(v)} (ch-run-oci supports 1.0.0 to 1.x)`,
    );
  });

  it('names a missing or non-string version', () => {
    expect(() => checkVersion({})).toThrow('config.json: missing required property "ociVersion"');
    expect(() => checkVersion({ ociVersion: 1.1 })).toThrow('config.json: /ociVersion: must be a string');
  });
});
