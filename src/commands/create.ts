import type { GlobalOptions } from './global';
import { openStore } from './global';
import { createOptions } from './args';
import { createContainer } from '../container/create';

export async function create(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const o = createOptions(a, false);
  await createContainer(openStore(g), o);
}
