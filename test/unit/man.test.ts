// The man page prints the policy table from src/spec/policy.ts; this test
// keeps the two equal. After changing the table: bash scripts/gen-man.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTable } from '../../scripts/lib/man-table';

const MAN = path.resolve(__dirname, '..', '..', 'man', 'ch-run-oci.1');

describe('man page', () => {
  it('prints the same policy table as the code (bash scripts/gen-man rewrites it)', () => {
    const text = fs.readFileSync(MAN, 'utf8');
    expect(text).toBe(withTable(text));
  });

  it('renders without warnings', () => {
    const out = execFileSync('sh', ['-c', `MANWIDTH=100 man --warnings -l ${MAN} 2>&1 >/dev/null`], { encoding: 'utf8' });
    expect(out).toBe('');
  });
});
