import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId, noTerminal, preserveFds } from './args';
import { createContainer, deleteContainer, startContainer } from '../container/lifecycle';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** run = create + start (+ wait + delete unless --detach); exits with the container's status. */
export async function run(a: Record<string, unknown>, g: GlobalOptions): Promise<number> {
  const id = containerId(a);
  const store = openStore(g);
  const detach = Boolean(a.detach);
  const created = await createContainer(store, {
    id,
    bundle: String(a.bundle),
    pidFile: a.pidFile as string | undefined,
    consoleSocket: noTerminal(a),
    preserveFds: preserveFds(a),
    noPivot: Boolean(a.noPivot),
    wait: !detach,
  });
  // From here on a signal to us is meant for the container.
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(created.pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (!detach) for (const s of FORWARDED) process.on(s, forward);
  try {
    await startContainer(store, id);
  } catch (err) {
    await deleteContainer(store, id, true);
    throw err;
  }
  if (detach) return 0;
  const status = await created.exited!;
  for (const s of FORWARDED) process.off(s, forward);
  if (!a.keep) await deleteContainer(store, id, true);
  return status;
}
