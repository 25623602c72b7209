// The man page prints the policy table from src/spec/policy.ts; this test keeps
// the two equal. To refresh the man page after changing the table:
//   UPDATE_MAN=1 npx vitest run test/unit/man.test.ts
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { policyRows } from '../../src/spec/policy';

const MAN = path.resolve(__dirname, '..', '..', 'man', 'ch-run-oci.1');
const BEGIN = /^\.\\" BEGIN POLICY TABLE.*$/m;
const END = /^\.\\" END POLICY TABLE$/m;

/** roff text: a tbl table with one row per policy entry. */
function renderTable(): string {
  const esc = (s: string) => s.replace(/\\/g, '\\e').replace(/^\./, '\\&.').replace(/-/g, '\\-');
  // Left-adjusted: narrow columns cannot be justified without troff warnings.
  const lines = ['.ad l', '.TS', 'allbox tab(|);', 'lb lb lbx', 'lw(2.2i) l lx.', 'Field|Fate|Why'];
  // Long field names may break after / . _ (\: is an invisible break point).
  const escPath = (s: string) => esc(s).replace(/([/._])(?=.)/g, '$1\\:');
  for (const r of policyRows()) lines.push(`T{\n${escPath(r.path)}\nT}|${r.fate}|T{\n${esc(r.note)}\nT}`);
  lines.push('.TE', '.ad');
  return lines.join('\n');
}

describe('man page', () => {
  it('prints the same policy table as the code', () => {
    const text = fs.readFileSync(MAN, 'utf8');
    const begin = text.match(BEGIN);
    const end = text.match(END);
    expect(begin && end).toBeTruthy();
    const head = text.slice(0, begin!.index! + begin![0].length);
    const tail = text.slice(end!.index!);
    const wanted = `${head}\n${renderTable()}\n${tail}`;
    if (process.env.UPDATE_MAN) fs.writeFileSync(MAN, wanted);
    expect(text).toBe(wanted);
  });

  it('renders without warnings', () => {
    const out = execFileSync('sh', ['-c', `MANWIDTH=100 man --warnings -l ${MAN} 2>&1 >/dev/null`], { encoding: 'utf8' });
    expect(out).toBe('');
  });
});
