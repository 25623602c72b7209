// The version of this runtime and of the runtime-spec it implements. The build
// script checks VERSION against package.json so the two never drift.
export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.2.1';
