import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { resumeContainer } from '../container/control';

/** resume: thaw a paused container. */
export async function resume(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  await resumeContainer(openStore(g), containerId(a));
}
