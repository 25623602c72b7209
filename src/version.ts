// The version of this runtime and of the runtime-spec it implements. The build
// script checks VERSION against package.json so the two never drift.
export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.2.1';

// Stamped by scripts/build (esbuild define): the git commit the executable was
// built from, "-dirty" when the tree had changes, "unknown" without git.
declare const CH_RUN_OCI_COMMIT: string | undefined;
export const COMMIT = typeof CH_RUN_OCI_COMMIT === 'string' ? CH_RUN_OCI_COMMIT : 'unknown';

/** `--version`, in runc's layout: dockerd shows the commit line, podman the first. */
export function versionText(): string {
  return `ch-run-oci version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}`;
}
