import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { pauseContainer } from '../container/control';

/** pause: freeze every process of the container (its cgroup's freezer). */
export async function pause(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  await pauseContainer(openStore(g), containerId(a));
}
