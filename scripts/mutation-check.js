#!/usr/bin/env node
// `npm run check:mutations`: does each rule have a spec that fails when the rule is broken?
// Applies one small change (a mutation) at a time to a copy of the tree in a temporary folder
// (the working tree is never touched, even when interrupted), runs the specs that claim the rule
// on the sqlite project, and prints a table: KILLED when a spec failed, SURVIVED when every spec
// passed with the rule broken. Exits 1 when one survived. Not part of `npm test` (one Jest run per
// mutation: minutes).
//
//   npm run check:mutations                    every mutation, after a baseline run without any
//   npm run check:mutations -- --only win-loss,p90  the mutations whose id contains "win-loss" or "p90"
//   npm run check:mutations -- --no-baseline    skip the unmutated run (you just ran the specs)
//   npm run check:mutations -- --list           the table of mutations, run nothing
//
// A mutation whose text is no longer found exactly once is reported STALE: the code moved on and
// the list below must follow it; INVALID when the mutated code does not load (that kills nothing).
// The PostgreSQL ones need the server the int-specs use.
const { execFileSync, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const P = 'libs/projections/src';
const SPECS = {
  stageDurations: [`${P}/stage-durations.projection.spec.ts`, `${P}/order-statistics.spec.ts`],
  winLoss: [`${P}/win-loss.projection.spec.ts`],
  funnel: [`${P}/funnel.projection.spec.ts`],
  transitions: [`${P}/transitions.projection.spec.ts`],
  pipeline: [`${P}/pipeline.projection.spec.ts`],
  stageIntervals: [`${P}/stage-intervals.projection.spec.ts`],
  postgres: [`${P}/postgres/postgres-analytics.queries.int-spec.ts`],
  asOf: ['libs/audit/src/as-of.spec.ts'],
  decide: ['libs/opportunity/src/opportunity.decide.spec.ts', 'libs/sales-process/src/process-rules.spec.ts'],
  idempotency: ['libs/commands/src/idempotency-key.int-spec.ts'],
};
const PG = `${P}/postgres/postgres-analytics.queries.ts`;

/** id, file, the exact text to change (found once), what it becomes, the specs that claim the rule. */
const MUTATIONS = [
  // Period filters of the in-memory read models: every comparison on an instant.
  ['stage-durations from: >= → >', `${P}/stage-durations.projection.ts`, '+(end >= fromMs)', '+(end > fromMs)', SPECS.stageDurations],
  ['stage-durations to: <= → <', `${P}/stage-durations.projection.ts`, '+(end <= toMs)', '+(end < toMs)', SPECS.stageDurations],
  ['win-loss from: >= → >', `${P}/win-loss.projection.ts`, '+(at >= fromMs)', '+(at > fromMs)', SPECS.winLoss],
  ['win-loss to: <= → <', `${P}/win-loss.projection.ts`, '+(at <= toMs)', '+(at < toMs)', SPECS.winLoss],
  ['funnel from: < → <=', `${P}/funnel.projection.ts`, 'opened < fromMs', 'opened <= fromMs', SPECS.funnel],
  ['funnel to: > → >=', `${P}/funnel.projection.ts`, 'opened > toMs', 'opened >= toMs', SPECS.funnel],
  ['transitions from: >= → >', `${P}/transitions.projection.ts`, '+(when >= fromMs)', '+(when > fromMs)', SPECS.transitions],
  ['transitions to: <= → <', `${P}/transitions.projection.ts`, '+(when <= toMs)', '+(when < toMs)', SPECS.transitions],
  ['pipeline closedFrom: >= → >', `${P}/pipeline.projection.ts`, 'at >= fromMs && at <= toMs', 'at > fromMs && at <= toMs', SPECS.pipeline],
  ['pipeline closedTo: <= → <', `${P}/pipeline.projection.ts`, 'at >= fromMs && at <= toMs', 'at >= fromMs && at < toMs', SPECS.pipeline],
  ['stage-intervals asOf start: <= → <', `${P}/stage-intervals.projection.ts`, 'startMs[segment]! <= atMs', 'startMs[segment]! < atMs', SPECS.stageIntervals],
  ['stage-intervals asOf end: < → <=', `${P}/stage-intervals.projection.ts`, 'atMs < endMs[segment]!', 'atMs <= endMs[segment]!', SPECS.stageIntervals],
  // The same filters in SQL on the PostgreSQL read side (the contract compares it with the models above).
  ['postgres closedFrom: >= → >', PG, 'closed_at >= ${w.param(window.from)}', 'closed_at > ${w.param(window.from)}', SPECS.postgres],
  ['postgres closedTo: <= → <', PG, 'closed_at <= ${w.param(window.to)}', 'closed_at < ${w.param(window.to)}', SPECS.postgres],
  ['postgres win-loss from: >= → >', PG, 'closed_at >= ${w.param(isoOrNull(parsed.fromMs))}', 'closed_at > ${w.param(isoOrNull(parsed.fromMs))}', SPECS.postgres],
  ['postgres win-loss to: <= → <', PG, 'closed_at <= ${w.param(isoOrNull(parsed.toMs))}', 'closed_at < ${w.param(isoOrNull(parsed.toMs))}', SPECS.postgres],
  ['postgres stage-durations from: >= → >', PG, 'v.left_at >= ', 'v.left_at > ', SPECS.postgres],
  ['postgres stage-durations to: <= → <', PG, 'v.left_at <= ', 'v.left_at < ', SPECS.postgres],
  ['postgres funnel from: >= → >', PG, 'opened_at >= ', 'opened_at > ', SPECS.postgres],
  ['postgres funnel to: <= → <', PG, 'opened_at <= ', 'opened_at < ', SPECS.postgres],
  ['postgres transitions from: >= → >', PG, 't.occurred_at >= ', 't.occurred_at > ', SPECS.postgres],
  ['postgres transitions to: <= → <', PG, 't.occurred_at <= ', 't.occurred_at < ', SPECS.postgres],
  // The board as of an instant (the forecast's own as-of ranges read the same columns further down).
  ['postgres asOf start: [ → (', PG, 'return w.add(`tstzrange(valid_from, valid_to) @>', "return w.add(`tstzrange(valid_from, valid_to, '()') @>", SPECS.postgres],
  ['postgres asOf end: ) → ]', PG, 'return w.add(`tstzrange(valid_from, valid_to) @>', "return w.add(`tstzrange(valid_from, valid_to, '[]') @>", SPECS.postgres],
  // The as-of fold of one opportunity (GET /opportunities/:id?asOf=).
  ['as-of fold: <= → <', 'libs/audit/src/as-of.ts', 'instantOf(event, axis) <= at', 'instantOf(event, axis) < at', SPECS.asOf],
  // Order statistics: nearest-rank p90 and the median of an even count.
  ['p90: nearest rank → 0.9·n as an index', `${P}/order-statistics.ts`, 'Math.floor((9 * n + 9) / 10) - 1', 'Math.min(n - 1, Math.floor(0.9 * n))', SPECS.stageDurations],
  ['p90: nearest rank → round(0.9·(n − 1))', `${P}/order-statistics.ts`, 'Math.floor((9 * n + 9) / 10) - 1', 'Math.round(0.9 * (n - 1))', SPECS.stageDurations],
  ['median of even n: mean of the middle two → upper middle', `${P}/order-statistics.ts`, '(sorted[middle - 1]! + sorted[middle]!) / 2', 'sorted[middle]!', SPECS.stageDurations],
  ['median of odd n: middle → mean of it and the one below', `${P}/order-statistics.ts`, 'n % 2 === 1 ? sorted[middle]!', 'n % 2 === 1 ? (sorted[middle]! + sorted[Math.max(0, middle - 1)]!) / 2', SPECS.stageDurations],
  ['postgres p90: rank (9n + 9) / 10 → (9n + 5) / 10', PG, 'rn = (9 * n + 9) / 10', 'rn = (9 * n + 5) / 10', SPECS.postgres],
  ['postgres median of even n → upper middle', PG, '(row.lower_middle + row.upper_middle) / 2', 'row.upper_middle', SPECS.postgres],
  // Process rules and the command side.
  ['winFrom ignored by the rule table', 'libs/sales-process/src/process-rules.ts', "step.kind !== 'win' || definition.rules.winFrom.includes(step.from)", "step.kind !== 'win' || true", SPECS.decide],
  ['winFrom ignored by the machine (the explanation still names it)', 'libs/sales-process/src/process-rules.ts', '      if (structuralViolation(step)) return undefined;', "      if (step.kind !== 'win' && structuralViolation(step)) return undefined;", SPECS.decide],
  ['Idempotency-Key: a different body replays the first answer', 'libs/commands/src/opportunity-command.executor.ts', 'if (recorded.fingerprint !== fingerprint) throw', 'if (recorded.fingerprint === undefined) throw', SPECS.idempotency],
  ['Idempotency-Key: an opening key may open a second opportunity', 'libs/commands/src/command-key.claims.ts', 'if (claims[0]!.data.opportunityId !== opportunityId) throw', 'if (claims[0]!.data.opportunityId === undefined) throw', SPECS.idempotency],
].map(([id, file, from, to, specs]) => ({ id, file, from, to, specs }));

const args = process.argv.slice(2);
// --only a,b: the mutations whose id contains any of these.
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const chosen = MUTATIONS.filter((m) => only === undefined || only.some((part) => m.id.includes(part)));

if (args.includes('--list')) {
  for (const m of chosen) console.log(`${m.id}\n    ${m.file}: ${m.from}  →  ${m.to}\n    specs: ${m.specs.join(', ')}`);
  process.exit(0);
}

// A copy of the tree as it is now (uncommitted changes included), node_modules shared.
const copy = mkdtempSync(join(tmpdir(), 'stagecraft-mutations-'));
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).toString().split('\0').filter((f) => f && f !== 'node_modules');
execFileSync('rsync', ['-a', '--files-from=-', '--from0', `${root}/`, `${copy}/`], { input: files.join('\0') });
symlinkSync(realpathSync(join(root, 'node_modules')), join(copy, 'node_modules'));
process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));

function jest(specs) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(copy, 'node_modules/jest/bin/jest.js'), '--selectProjects', 'sqlite', '--bail', '--silent', '--', ...specs], {
    cwd: copy,
    encoding: 'utf8',
    // A failing property need not shrink its counterexample here: that it fails is the answer.
    env: { ...process.env, FORCE_COLOR: '0', FC_END_ON_FAILURE: '1' },
  });
  // The first failing test's title, as Jest prints it ("● describe › it").
  const failed = run.stderr.match(/^\s+● (.*)$/m)?.[1]?.trim();
  // No spec ran (a path that does not exist): that proves nothing either way.
  const none = /No tests found/.test(run.stdout + run.stderr);
  // A suite that did not even load (a mutation that does not compile) kills nothing.
  const invalid = /Test suite failed to run/.test(run.stderr);
  return { passed: run.status === 0, none, invalid, seconds: Math.round((Date.now() - started) / 1000), failed, output: run.stderr };
}

if (!args.includes('--no-baseline')) {
  const specs = [...new Set(chosen.flatMap((m) => m.specs))];
  process.stdout.write(`Baseline: ${specs.length} spec file(s) without any mutation… `);
  const baseline = jest(specs);
  if (!baseline.passed) {
    console.log(`FAILED\n${baseline.output}\nThe specs fail without a mutation: fix that first.`);
    process.exit(2);
  }
  console.log(`green (${baseline.seconds} s)`);
}

const rows = [];
for (const m of chosen) {
  const path = join(copy, m.file);
  const original = readFileSync(path, 'utf8');
  const found = original.split(m.from).length - 1;
  if (found !== 1) {
    rows.push({ ...m, result: 'STALE', detail: `text found ${found} times`, seconds: 0 });
  } else {
    writeFileSync(path, original.replace(m.from, () => m.to));
    const run = jest(m.specs);
    writeFileSync(path, original);
    const result = run.none ? 'NO SPECS' : run.invalid ? 'INVALID' : run.passed ? 'SURVIVED' : 'KILLED';
    const detail = run.none ? `none of ${m.specs.join(', ')} ran` : run.invalid ? 'a suite failed to run: the mutated code does not load' : run.passed ? 'every spec passed' : (run.failed ?? 'failed');
    rows.push({ ...m, result, detail, seconds: run.seconds });
  }
  const last = rows[rows.length - 1];
  console.log(`${last.result.padEnd(9)} ${String(last.seconds).padStart(4)} s  ${m.id}  —  ${last.detail}`);
}

console.log('\n| mutation | file | result | first failing test |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.id} | \`${r.file.replace(/^libs\//, '')}\` | ${r.result} | ${r.detail.replace(/\|/g, '\\|')} |`);
const survived = rows.filter((r) => r.result !== 'KILLED').length;
console.log(`\n${rows.length - survived} of ${rows.length} killed.`);
process.exit(survived === 0 ? 0 : 1);
