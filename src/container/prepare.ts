// The one way from a bundle to a plan: load config.json (version, schema),
// meet the policy table, check the rootfs, plan. `create` and scripts/bench
// (the runner alone) both go through here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { loadBundle } from '../spec/load';
import { applyPolicy } from '../spec/policy';
import type { OciConfig } from '../spec/types';
import type { Plan } from '../runner/plan';
import { readCallerIds } from './idmap';
import { buildPlan, type PlanContext } from './plan';

export interface Prepared {
  /** Absolute bundle path. */
  bundle: string;
  config: OciConfig;
  /** Absolute rootfs path, a directory. */
  rootfs: string;
}

/** Loads and checks a bundle; throws a UserError naming the field or path. */
export function prepareBundle(bundleArg: string): Prepared {
  const { bundle, config } = loadBundle(bundleArg);
  applyPolicy(config);
  const rootfs = path.resolve(bundle, config.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch (err) {
    throw new UserError(`root.path ${rootfs}`, errnoText(err));
  }
  if (!st.isDirectory()) throw new UserError(`root.path ${rootfs}`, 'not a directory');
  return { bundle, config, rootfs };
}

/** The plan for a prepared bundle, for the calling process's ids. */
export function planContainer(p: Prepared, o: Omit<PlanContext, 'bundle' | 'rootfs' | 'caller'>): Plan {
  return buildPlan(p.config, { ...o, bundle: p.bundle, rootfs: p.rootfs, caller: readCallerIds() });
}
