import type { GlobalOptions } from './global';
import { openStore } from './global';
import { createOptions } from './args';
import { createContainer } from '../container/create';
import { deleteContainer } from '../container/delete';
import { startContainer } from '../container/start';
import { forwardSignals } from '../container/signals';

/** run = create + start (+ wait + delete unless --detach); exits with the container's status. */
export async function run(a: Record<string, unknown>, g: GlobalOptions): Promise<number> {
  const detach = Boolean(a.detach);
  const o = createOptions(a, !detach);
  const id = o.id;
  const store = openStore(g);
  const created = await createContainer(store, o);
  // From here on a signal to us is meant for the container.
  const stopForwarding = detach ? () => undefined : forwardSignals(created.pid);
  try {
    await startContainer(store, id);
  } catch (err) {
    await deleteContainer(store, id, true);
    throw err;
  }
  if (detach) return 0;
  const status = await created.exited!;
  stopForwarding();
  if (!a.keep) await deleteContainer(store, id, true);
  return status;
}
