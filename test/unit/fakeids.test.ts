// The runner's fake-id rules and group lists (src/runner/fakeids.c) through
// their C harness (test/helpers/fakeids-test.c): pure code, no namespaces.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';

import { REPO, compileC } from '../helpers/repo';

it("the set*id rules and the shared group lists behave as the kernel's", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fakeids-'));
  try {
    const exe = path.join(dir, 'fakeids-test');
    compileC(exe, [path.join(REPO, 'test/helpers/fakeids-test.c'), path.join(REPO, 'src/runner/fakeids.c')]);
    const r = spawnSync(exe, { encoding: 'utf8' });
    expect(r.stdout).toBe('fakeids: all checks passed\n');
    expect(r.status).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
