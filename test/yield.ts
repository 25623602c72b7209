// Set up in every suite: between two tests the worker's event loop reaches
// its poll phase once, where vitest's replies to the worker wait. Our tests
// are mostly synchronous (spawnSync of real processes); a file of them in a
// row would otherwise keep those replies unread until vitest 3's fixed 60 s
// RPC timeout fires ("Timeout calling onTaskUpdate") and fails a green run.
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
