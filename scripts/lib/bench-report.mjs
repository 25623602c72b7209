// scripts/bench's report: reads the hyperfine JSON exports of one bench run,
// prints the table (medians, spread, CPU, ratios to the two floors and to crun
// of the same group) and the targets of issues 6 and 16 with PASS/FAIL, and
// writes it all as JSON.
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
  ['buildah-sleep', 'buildah bud, RUN sleep 10 (root, --isolation=oci): CPU is what polling costs'],
  ['buildah-busy', 'buildah bud, RUN with one busy loop per core (root, --isolation=oci)'],
];
const LABEL = {
  node: 'node -e 0',
  empty: 'empty program, packaged',
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
    .replace(/ (cycle|buildah|sleep|busy)$/, '');

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
    cpu_ms: ms(r.user + r.system),
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
    if (rows.node && name !== 'node') {
      row.x_node = row.median_ms / rows.node.median_ms;
      row.x_node_cpu = row.cpu_ms / rows.node.cpu_ms;
    }
    if (rows.empty && name !== 'empty' && name !== 'node') {
      row.x_empty = row.median_ms / rows.empty.median_ms;
      row.x_empty_cpu = row.cpu_ms / rows.empty.cpu_ms;
    }
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

// The targets, each a ratio from this one run: [name, group, numerator,
// denominator, limit, metric]; metric wall = medians, cpu = user + system means.
const HOT = [
  ['--version', 'startup', 'ch-version'],
  ['state', 'startup', 'ch-state'],
  ['start', 'start', 'ch-start'],
  ['kill', 'kill', 'ch-kill'],
  ['delete', 'delete', 'ch-delete'],
];
const TARGETS = [
  ['packaged floor vs node -e 0 (16)', 'startup', 'empty', 'node', 1.15, 'cpu'],
  ['packaged floor vs node -e 0 (16)', 'startup', 'empty', 'node', 1.15, 'wall'],
  ...HOT.flatMap(([n, g, c]) => [
    [`${n} vs packaged floor (16)`, g, c, 'empty', 1.25, 'cpu'],
    [`${n} vs packaged floor (16)`, g, c, 'empty', 1.25, 'wall'],
  ]),
  ['create vs node -e 0 (16)', 'create', 'ch-create', 'node', 1.8, 'cpu'],
  ['create vs node -e 0 (16)', 'create', 'ch-create', 'node', 1.8, 'wall'],
  ['lifecycle cycle (root) (6)', 'cycle-root', 'ch-cycle', 'node', 4.8, 'wall'],
  ['lifecycle cycle (user) (6)', 'cycle-user', 'ch-cycle', 'node', 4.8, 'wall'],
  ['runner alone vs crun run (root) (6)', 'runner-root', 'runner', 'crun-run', 1.0, 'wall'],
  ['runner alone vs crun run (user) (6)', 'runner-user', 'runner', 'crun-run', 1.0, 'wall'],
  ['buildah 11-step build (16)', 'buildah', 'ch-buildah', 'crun-buildah', 1.4, 'wall'],
  ['buildah RUN sleep 10, buildah + runtime (16)', 'buildah-sleep', 'ch-sleep', 'crun-sleep', 3.0, 'cpu'],
  ['buildah CPU-bound RUN on every core (16)', 'buildah-busy', 'ch-busy', 'crun-busy', 1.1, 'wall'],
];
const targets = [];
for (const [name, g, num, den, limit, metric] of TARGETS) {
  const a = groups[g]?.[num];
  const b = groups[g]?.[den];
  const key = metric === 'cpu' ? 'cpu_ms' : 'median_ms';
  const value = a && b ? a[key] / b[key] : null;
  targets.push({
    target: `${name}, ${metric}`,
    ratio: `${label(num)} / ${label(den)}`,
    limit,
    value,
    pass: value !== null && value <= limit,
  });
}
// Peak RSS of state against the empty program's (16), and the size (16).
const rssTarget = (name, num, den, limit) => {
  const value = rss[num] && rss[den] ? rss[num].median_kb / rss[den].median_kb : null;
  targets.push({ target: name, ratio: `peak RSS ${label(num)} / ${label(den)}`, limit, value, pass: value !== null && value <= limit });
};
rssTarget('state peak RSS vs packaged floor (16)', 'ch-state', 'empty', 1.1);
const MB = 1e6;
if (meta.sizes?.['ch-run-oci']) {
  const value = meta.sizes['ch-run-oci'] / MB;
  targets.push({ target: 'size of the executable, MB (16)', ratio: 'dist/ch-run-oci', limit: 95, value, pass: value <= 95 });
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
const head = ['command', 'median', 'p25-p75', 'σ', 'min-max', 'CPU', '× node', '× empty', 'CPU × node', 'CPU × empty', '× crun'];
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
      f1(r.cpu_ms),
      f2(r.x_node),
      f2(r.x_empty),
      f2(r.x_node_cpu),
      f2(r.x_empty_cpu),
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
if (meta.sizes) {
  lines.push(
    '',
    'size (MB): ' +
      Object.entries(meta.sizes)
        .map(([k, v]) => `${k} ${(v / MB).toFixed(1)}`)
        .join(', '),
  );
}
lines.push('', 'targets (issues 6 and 16):');
const tw = Math.max(...targets.map((t) => t.target.length));
for (const t of targets) {
  lines.push(
    `  ${t.target.padEnd(tw)}  ${t.value === null ? ' n/a' : t.value.toFixed(2).padStart(6)} <= ${t.limit.toFixed(2)}  ${t.value === null ? 'MISSING' : t.pass ? 'PASS' : 'FAIL'}   (${t.ratio})`,
  );
}
const passed = targets.filter((t) => t.pass).length;
lines.push(`  ${passed}/${targets.length} targets hold`);
process.stdout.write(lines.join('\n') + '\n');

fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify({ ...meta, groups, rss, targets, allPass: passed === targets.length }, null, 2) + '\n');
