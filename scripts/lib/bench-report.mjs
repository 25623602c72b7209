// scripts/bench's report: reads the hyperfine JSON exports of one bench run,
// prints the table (medians, spread, ratios to `node -e 0` and to crun of the
// same group) and the issue 6 targets with PASS/FAIL, and writes it all as JSON.
//
// Usage: node bench-report.mjs JSON_DIR OUT_FILE META_JSON
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dir, outFile, metaText] = process.argv.slice(2);
const meta = JSON.parse(metaText ?? '{}');

// Group order and the words shown for each command name.
const GROUPS = [
  ['startup', 'start-up'],
  ['create', 'create (bundle validated)'],
  ['start', 'start (created container)'],
  ['kill', 'kill KILL (running container)'],
  ['delete', 'delete (stopped container)'],
  ['cycle-root', 'create, start, state until stopped, delete: root'],
  ['cycle-user', 'create, start, state until stopped, delete: unprivileged user'],
  ['runner-root', 'runner alone vs run: root'],
  ['runner-user', 'runner alone vs run: unprivileged user'],
  ['buildah', 'buildah bud, 10 x RUN true + 1 file-writing RUN (root, --isolation=oci)'],
];
const LABEL = {
  node: 'node -e 0',
  'ch-version': 'ch-run-oci --version',
  runner: 'ch-run-oci runner (set-up, exec true)',
  'crun-run': 'crun run',
  'runc-run': 'runc run',
};
const label = (name) =>
  LABEL[name] ??
  name
    .replace(/^ch-/, 'ch-run-oci ')
    .replace(/^(crun|runc)-/, '$1 ')
    .replace(/ (cycle|buildah)$/, '');

const ms = (s) => s * 1000;
function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}
function summarize(r) {
  const t = [...r.times].sort((a, b) => a - b).map(ms);
  const mean = t.reduce((x, y) => x + y, 0) / t.length;
  const sd = t.length > 1 ? Math.sqrt(t.reduce((x, y) => x + (y - mean) ** 2, 0) / (t.length - 1)) : 0;
  return {
    runs: t.length,
    median_ms: quantile(t, 0.5),
    p25_ms: quantile(t, 0.25),
    p75_ms: quantile(t, 0.75),
    mean_ms: mean,
    stddev_ms: sd,
    min_ms: t[0],
    max_ms: t[t.length - 1],
    user_ms: ms(r.user),
    system_ms: ms(r.system),
  };
}

/** The results of GROUP, its rounds (GROUP.rN.json, see scripts/bench's hf) merged per command. */
function readGroup(g) {
  const files = fs.readdirSync(dir).filter((f) => f === `${g}.json` || new RegExp(`^${g}\\.r\\d+\\.json$`).test(f));
  if (!files.length) return undefined;
  const merged = new Map();
  for (const f of files.sort()) {
    for (const r of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results) {
      const m = merged.get(r.command) ?? { times: [], user: 0, system: 0 };
      // user/system are hyperfine's means: weigh them by the round's runs.
      m.user += r.user * r.times.length;
      m.system += r.system * r.times.length;
      m.times.push(...r.times);
      merged.set(r.command, m);
    }
  }
  for (const m of merged.values()) {
    m.user /= m.times.length;
    m.system /= m.times.length;
  }
  return merged;
}

const groups = {};
for (const [g] of GROUPS) {
  const merged = readGroup(g);
  if (!merged) continue;
  const rows = {};
  for (const [name, r] of merged) rows[name] = summarize(r);
  // Ratios within the group: to node -e 0 and to crun doing the same thing.
  const crunRow = Object.keys(rows).find((n) => n.startsWith('crun-'));
  for (const [name, row] of Object.entries(rows)) {
    if (rows.node && name !== 'node') row.x_node = row.median_ms / rows.node.median_ms;
    if (crunRow && name !== crunRow && name !== 'node') row.x_crun = row.median_ms / rows[crunRow].median_ms;
  }
  groups[g] = rows;
}

const rssFile = path.join(dir, 'rss.json');
const rss = {};
if (fs.existsSync(rssFile)) {
  for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(rssFile, 'utf8')))) {
    const s = [...v].sort((a, b) => a - b);
    rss[k] = { median_kb: quantile(s, 0.5), min_kb: s[0], max_kb: s[s.length - 1], runs: s.length };
  }
}

// The targets of issue 6, each a ratio from this one run.
const TARGETS = [
  ['state', 'startup', 'ch-state', 'node', 1.15],
  ['start', 'start', 'ch-start', 'node', 1.15],
  ['kill', 'kill', 'ch-kill', 'node', 1.15],
  ['delete', 'delete', 'ch-delete', 'node', 1.15],
  ['create', 'create', 'ch-create', 'node', 1.35],
  ['lifecycle cycle (root)', 'cycle-root', 'ch-cycle', 'node', 4.8],
  ['lifecycle cycle (user)', 'cycle-user', 'ch-cycle', 'node', 4.8],
  ['runner alone vs crun run (root)', 'runner-root', 'runner', 'crun-run', 1.0],
  ['runner alone vs crun run (user)', 'runner-user', 'runner', 'crun-run', 1.0],
  ['buildah 11-step build', 'buildah', 'ch-buildah', 'crun-buildah', 2.5],
];
const targets = [];
for (const [name, g, num, den, limit] of TARGETS) {
  const a = groups[g]?.[num];
  const b = groups[g]?.[den];
  const value = a && b ? a.median_ms / b.median_ms : null;
  targets.push({ target: name, ratio: `${label(num)} / ${label(den)}`, limit, value, pass: value !== null && value <= limit });
}

// --- table ---------------------------------------------------------------
const f1 = (x) => (x === undefined || x === null ? '' : x.toFixed(1));
const f2 = (x) => (x === undefined || x === null ? '' : x.toFixed(2));
const lines = [];
lines.push(`ch-run-oci bench ${meta.date ?? ''}${meta.quick ? ' (--quick)' : ''}: ${meta.machine ?? ''}`);
if (meta.versions) lines.push(meta.versions);
if (meta.loadavg) {
  // Other work on the machine stretches kernel-heavy steps (create, run) far more than node -e 0.
  const busy = [meta.loadavg.start, meta.loadavg.end].some((l) => Number(String(l).split(' ')[0]) > 1);
  lines.push(
    `load average at start ${meta.loadavg.start}, at end ${meta.loadavg.end}${busy ? '  WARNING: the machine was not idle; ratios are not reliable' : ''}`,
  );
}
lines.push(
  `hyperfine: ${meta.runs} runs per command in ${meta.rounds} interleaved rounds, ${meta.warmup} warm-up runs each (buildah: ${meta.buildahRuns} runs); times in ms`,
);
const head = ['command', 'median', 'p25-p75', 'σ', 'min-max', '× node', '× crun'];
const table = [];
for (const [g, title] of GROUPS) {
  if (!groups[g]) continue;
  table.push([`[${title}]`]);
  for (const [name, r] of Object.entries(groups[g])) {
    table.push([
      `  ${label(name)}`,
      f1(r.median_ms),
      `${f1(r.p25_ms)}-${f1(r.p75_ms)}`,
      f1(r.stddev_ms),
      `${f1(r.min_ms)}-${f1(r.max_ms)}`,
      f2(r.x_node),
      f2(r.x_crun),
    ]);
  }
}
const widths = head.map((h, i) => Math.max(h.length, ...table.filter((r) => r.length > 1).map((r) => (r[i] ?? '').length)));
const fmt = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[0]) : c.padStart(widths[i]))).join('  ');
lines.push('', fmt(head));
for (const r of table) lines.push(r.length === 1 ? r[0] : fmt(r));
if (Object.keys(rss).length) {
  lines.push(
    '',
    'peak RSS (median kB): ' +
      Object.entries(rss)
        .map(([k, v]) => `${label(k)} ${Math.round(v.median_kb)}`)
        .join(', '),
  );
}
lines.push('', 'targets (issue 6):');
const tw = Math.max(...targets.map((t) => t.target.length));
for (const t of targets) {
  lines.push(
    `  ${t.target.padEnd(tw)}  ${t.value === null ? ' n/a' : t.value.toFixed(2).padStart(5)} <= ${t.limit.toFixed(2)}  ${t.value === null ? 'MISSING' : t.pass ? 'PASS' : 'FAIL'}   (${t.ratio})`,
  );
}
const passed = targets.filter((t) => t.pass).length;
lines.push(`  ${passed}/${targets.length} targets hold`);
process.stdout.write(lines.join('\n') + '\n');

fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify({ ...meta, groups, rss, targets, allPass: passed === targets.length }, null, 2) + '\n');
