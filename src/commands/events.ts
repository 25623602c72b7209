import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { UserError } from '../errors';
import { sleep } from '../sleep';
import { writeStdout } from '../stdout';
import { containerStats } from '../container/control';
import { stringify } from '../cgroups/stats';

/**
 * events: runc's JSON lines. With --stats one "stats" event and exit;
 * otherwise a "stats" event every --interval and an "oom" event for each OOM
 * kill seen meanwhile, until the container stops.
 */
export async function events(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const id = containerId(a);
  const store = openStore(g);
  const interval = duration(String(a.interval ?? '5s'));
  const emit = (type: string, data?: Record<string, unknown>) =>
    writeStdout(stringify(data ? { type, id, data: data as never } : { type, id }) + '\n');
  let s = containerStats(store, id);
  if (s.status === 'stopped') throw new UserError(`container "${id}"`, 'is not running');
  if (!s.stats) throw new UserError(`container "${id}"`, 'has no cgroup of its own: no statistics (it could not be given one at create)');
  if (a.stats) return emit('stats', s.stats);
  let ooms = s.ooms;
  for (;;) {
    await sleep(interval);
    if (!store.exists(id)) return;
    s = containerStats(store, id);
    if (s.status === 'stopped' || !s.stats) return;
    for (; ooms < s.ooms; ooms++) emit('oom');
    emit('stats', s.stats);
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (5s, 100ms, 1m30s), as runc's --interval takes. */
export function duration(s: string): number {
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s)
    throw new UserError(`--interval "${s}"`, 'must be a duration such as 5s or 500ms');
  const ms = parts.reduce((t, p) => t + Number(p[1]) * UNIT_MS[p[2]], 0);
  if (!(ms > 0)) throw new UserError(`--interval "${s}"`, 'duration interval must be greater than 0');
  return ms;
}
