import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { observe } from '../container/transitions';
import { stateJson } from '../state/status';
import { writeStdout } from '../stdout';

export async function state(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const { record, status } = observe(openStore(g), containerId(a));
  writeStdout(JSON.stringify(stateJson(record, status), null, 2) + '\n');
}
