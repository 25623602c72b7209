import type { GlobalOptions } from './global';
import { featuresDocument } from '../spec/features';

export async function features(_a: Record<string, unknown>, _g: GlobalOptions): Promise<void> {
  process.stdout.write(JSON.stringify(featuresDocument(), null, 2) + '\n');
}
