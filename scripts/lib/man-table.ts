// The man page's FIELD POLICY table, from the one policy table
// (src/spec/policy.ts). `bash scripts/gen-man` writes it into
// man/ch-run-oci.1; test/unit/man.test.ts checks that the two agree.
import * as fs from 'node:fs';
import { policyRows } from '../../src/spec/policy';

const BEGIN = /^\.\\" BEGIN POLICY TABLE.*$/m;
const END = /^\.\\" END POLICY TABLE$/m;

/** roff text: a tbl table with one row per policy entry. */
export function renderTable(): string {
  const esc = (s: string) => s.replace(/\\/g, '\\e').replace(/^\./, '\\&.').replace(/-/g, '\\-');
  // Left-adjusted: narrow columns cannot be justified without troff warnings.
  const lines = ['.ad l', '.TS', 'allbox tab(|);', 'lb lb lbx', 'lw(2.2i) l lx.', 'Field|Fate|Why'];
  // Long field names may break after / . _ (\: is an invisible break point).
  const escPath = (s: string) => esc(s).replace(/([/._])(?=.)/g, '$1\\:');
  for (const r of policyRows()) lines.push(`T{\n${escPath(r.path)}\nT}|${r.fate}|T{\n${esc(r.note)}\nT}`);
  lines.push('.TE', '.ad');
  return lines.join('\n');
}

/** The man page text with its table replaced by the current one. */
export function withTable(text: string): string {
  const begin = text.match(BEGIN);
  const end = text.match(END);
  if (!begin || !end) throw new Error('man page: POLICY TABLE markers missing');
  return `${text.slice(0, begin.index! + begin[0].length)}\n${renderTable()}\n${text.slice(end.index!)}`;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: man-table MANPAGE\n');
    process.exit(2);
  }
  fs.writeFileSync(file, withTable(fs.readFileSync(file, 'utf8')));
}
