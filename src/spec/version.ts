// Which config.json versions ch-run-oci runs. The runtime-spec keeps 1.x
// backward compatible, so every 1.y.z (with or without a pre-release or build
// suffix, e.g. "1.0.2-dev" from podman/buildah, "1.1.0-rc.1", "1.3.0" from
// runtime-tools) is accepted; 0.x and 2.x are different formats.
import { UserError } from '../errors';

export const OCI_VERSION_MIN = '1.0.0';
/** The newest runtime-spec this runtime was written against (used by `features` and `state`). */
export const OCI_VERSION_MAX = '1.2.1';

// SemVer 2.0.0 core + optional pre-release and build metadata.
const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
}

export function parseVersion(text: string): Version | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] };
}

/** True when ch-run-oci runs configs of this ociVersion. */
export function isSupportedVersion(text: string): boolean {
  const v = parseVersion(text);
  // 1.0.0-rc* predates 1.0.0 in SemVer order and used an incompatible layout.
  return v !== undefined && v.major === 1 && !(v.minor === 0 && v.patch === 0 && v.prerelease !== undefined);
}

/** Throws the one-line error podman shows when ociVersion is absent, not a string or not 1.x. */
export function checkVersion(config: Record<string, unknown>, what = 'config.json'): string {
  if (!('ociVersion' in config)) throw new UserError(what, 'missing required property "ociVersion"');
  const v = config.ociVersion;
  if (typeof v !== 'string') throw new UserError(`${what}: /ociVersion`, 'must be a string');
  if (!isSupportedVersion(v)) {
    throw new UserError(`${what}: /ociVersion`, `unsupported version ${JSON.stringify(v)} (ch-run-oci supports ${OCI_VERSION_MIN} to 1.x)`);
  }
  return v;
}
