// The one test helper of the spec tests: validators compiled at test time from
// schemas/*.schema.json (same ajv options as scripts/gen-validators.mjs, so the
// tests don't depend on a build having run) and, as an oracle for the
// differential test, the upstream OCI schemas of each runtime-spec version.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import type { Validators } from '../../src/spec/validate';

import { REPO, SHARED } from '../helpers/repo';
const OUR_SCHEMAS = path.join(REPO, 'schemas');
const UPSTREAM = path.join(SHARED, 'oci-schemas');
const OURS = 'https://ch-run-oci.dev/schemas/';

let ours: Validators | undefined;

/** Our schemas compiled as the build compiles them. */
export function ourValidators(): Validators {
  if (ours) return ours;
  const ajv = new Ajv({ allErrors: false, strict: false });
  for (const f of fs.readdirSync(OUR_SCHEMAS).filter((n) => n.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(OUR_SCHEMAS, f), 'utf8')));
  }
  const get = (name: string) => ajv.getSchema(OURS + name) as ValidateFunction;
  ours = {
    validateConfig: get('config.schema.json'),
    validateState: get('state.schema.json'),
    validateFeatures: get('features.schema.json'),
  };
  return ours;
}

/** Our process definition alone (for the exec process.json podman writes). */
export function ourProcessValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: false, strict: false });
  for (const f of fs.readdirSync(OUR_SCHEMAS).filter((n) => n.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(OUR_SCHEMAS, f), 'utf8')));
  }
  return ajv.compile({ $ref: `${OURS}defs.schema.json#/definitions/process` });
}

// draft-04 `id` inside v1.0.0's files would move the base URI of relative
// $refs to opencontainers.org; drop every id and give each file our own key.
function stripIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripIds);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    // "id" as a keyword (a string), not a property named id (an object under "properties").
    if (k === 'id' && typeof v === 'string') continue;
    out[k] = stripIds(v);
  }
  return out;
}

const upstream = new Map<string, { config: ValidateFunction; state: ValidateFunction; features?: ValidateFunction }>();

/** Upstream validators of one tag directory (v1.0.0, v1.0.2, v1.1.0, v1.2.1). */
export function upstreamValidators(tag: string) {
  const cached = upstream.get(tag);
  if (cached) return cached;
  const dir = path.join(UPSTREAM, tag);
  const base = `https://upstream.test/${tag}/`;
  const ajv = new AjvDraft04({ allErrors: false, strict: false, validateFormats: false });
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const schema = stripIds(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) as Record<string, unknown>;
    delete schema.$schema;
    ajv.addSchema(schema, base + f);
  }
  const get = (f: string) => ajv.getSchema(base + f) as ValidateFunction;
  const v = {
    config: get('config-schema.json'),
    state: get('state-schema.json'),
    features: fs.existsSync(path.join(dir, 'features-schema.json')) ? get('features-schema.json') : undefined,
  };
  upstream.set(tag, v);
  return v;
}

/** The upstream tag whose schema judges a config of this ociVersion. */
export function upstreamTagFor(ociVersion: unknown): string {
  const m = /^1\.(\d+)\.(\d+)/.exec(String(ociVersion));
  if (!m) return 'v1.2.1';
  const [minor, patch] = [Number(m[1]), Number(m[2])];
  if (minor === 0) return patch < 2 ? 'v1.0.0' : 'v1.0.2';
  if (minor === 1) return 'v1.1.0';
  return 'v1.2.1';
}

/** The real client configs captured on the lab machines. */
export function sharedConfigs(): { name: string; json: Record<string, unknown> }[] {
  const dir = path.join(SHARED, 'configs');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => ({ name, json: JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) }));
}
