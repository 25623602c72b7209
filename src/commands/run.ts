import type { GlobalOptions } from './global';
import { openStore } from './global';
import { createOptions } from './args';
import { createContainer, deleteContainer, startContainer } from '../container/lifecycle';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** run = create + start (+ wait + delete unless --detach); exits with the container's status. */
export async function run(a: Record<string, unknown>, g: GlobalOptions): Promise<number> {
  const detach = Boolean(a.detach);
  const o = createOptions(a, !detach);
  const id = o.id;
  const store = openStore(g);
  const created = await createContainer(store, o);
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
