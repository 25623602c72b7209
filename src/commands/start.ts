import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { startContainer } from '../container/start';
import { TERMINATING } from '../container/signals';

// start is one short step (open the fifo, read a byte, unlink it): a signal
// must not cut it in half. If it did, the caller would see start fail while
// the user program already runs, and clean-up that follows a successful start
// would never happen (buildah, interrupted at that moment, would leave the
// container running). So the usual terminating signals wait until it is done.

export async function start(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const id = containerId(a);
  const ignore = () => undefined;
  for (const s of TERMINATING) process.on(s, ignore);
  // The program begins once we have exited (see startContainer), as it does
  // after `crun start` has returned.
  await startContainer(openStore(g), id, { onExit: true });
}
