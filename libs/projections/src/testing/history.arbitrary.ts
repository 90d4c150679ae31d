import fc from 'fast-check';
import { calendarDateOf, decide, evolve, OPPORTUNITY_STREAM_PREFIX, toOpportunityStreamId, type OpportunityCommand, type OpportunityState } from '@stagecraft/opportunity';
import { compileProcess, type CompiledProcess, type ProcessDefinition } from '@stagecraft/sales-process';
import { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED } from '../process-catalog';
import type { AnalyticsFilter, ProjectedEvent } from '../projection.types';

// Random VALID histories: every opportunity event is one the real decider accepted on the process
// version the opportunity runs on. Process versions are recorded before the opportunities that use
// them; opportunities interleave in the log, each with its own business clock, so occurredAt order
// differs from log order across streams while never going backwards within one.

export const PROCESS_IDS = ['p0', 'p1', 'p2'] as const;
export const TEAMS = ['t1', 't2', 't3'] as const;
export const OWNERS = ['ann', 'bob', 'cid'] as const;
export const CURRENCIES = ['EUR', 'USD'] as const;

/** Next steps on a closing: written on about a third of them (from the step's own draw, so seeds replay as before). */
const nextStepsOf = (draw: number): { nextSteps?: string } => (draw % 3 === 0 ? { nextSteps: `next step ${draw % 5}` } : {});
/** Stage ids are shared between processes on purpose: p0's "s1" is not p1's "s1". */
const STAGE_POOL = ['s0', 's1', 's2', 's3', 's4', 's5'] as const;
const LOST_REASONS = ['price', 'timing', 'competitor', 'other'] as const;
const WON_REASONS = ['price', 'relationship', 'product'] as const;

/**
 * FC_EPOCH=YYYY-MM-DD moves every generated history to start on that day (UTC) instead: the default
 * span lies inside one year, so no history puts months, quarters or cohorts across a year's end
 * (FC_EPOCH=2025-11-15 does), nor near the ends of the years instants may lie in. The specs ask
 * about instants from a span before EPOCH to three after it (and the commands' server time is four
 * after it), all of which must lie in years 0001–9999: FC_EPOCH from 0001-07-20 to 9997-10-22.
 */
function epochFromEnv(): number | undefined {
  const text = process.env.FC_EPOCH?.trim();
  if (!text) return undefined;
  const epoch = Date.parse(`${text}T00:00:00.000Z`);
  const span = 200 * 86_400_000;
  const inRange = epoch - span >= Date.parse('0001-01-01T00:00:00.000Z') && epoch + 4 * span <= Date.parse('9999-12-31T23:59:59.999Z');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(epoch) || new Date(epoch).toISOString().slice(0, 10) !== text || !inRange) throw new Error(`FC_EPOCH must be a day from 0001-07-20 to 9997-10-22, YYYY-MM-DD (got "${text}")`);
  return epoch;
}

/** Business time of generated events lies within [EPOCH, EPOCH + SPAN_MS] (a few months, so months vary). */
export const EPOCH = epochFromEnv() ?? Date.UTC(2026, 0, 1);
/** The span of the generated business times (epochFromEnv's range counts in it). */
export const SPAN_MS = 200 * 86_400_000;
/** The commands' server time: after every generated instant (a later FC_EPOCH moves it with it). */
const COMMAND_NOW = new Date(Math.max(Date.UTC(2100, 0, 1), EPOCH + 4 * SPAN_MS)).toISOString();

export interface GeneratedHistory {
  /** The global log, noise included, positions increasing (not dense). */
  readonly events: readonly ProjectedEvent[];
  /** The same log without the noise events. */
  readonly clean: readonly ProjectedEvent[];
}

const definitionArbitrary = (processId: string): fc.Arbitrary<ProcessDefinition> =>
  fc
    .record({
      stageIds: fc.shuffledSubarray([...STAGE_POOL], { minLength: 1, maxLength: 5 }),
      criteria: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }),
      probabilities: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 6, maxLength: 6 }),
      allowSkipping: fc.boolean(),
      allowBackward: fc.boolean(),
      winMask: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      lostReasons: fc.subarray([...LOST_REASONS], { minLength: 1 }),
      teams: fc.subarray([...TEAMS]),
      rotAfterDays: fc.array(fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }), { minLength: 6, maxLength: 6 }),
      wonReasons: fc.option(fc.subarray([...WON_REASONS], { minLength: 1 }), { nil: undefined }),
    })
    .map(({ stageIds, criteria, probabilities, allowSkipping, allowBackward, winMask, lostReasons, teams, rotAfterDays, wonReasons }) => {
      const stages = stageIds.map((id, i) => ({
        id,
        name: `Stage ${id} of ${processId}`,
        probability: probabilities[i]!,
        exitCriteria: Array.from({ length: criteria[i]! }, (_, c) => ({ id: `c${c}`, description: `Criterion ${c}` })),
        ...(rotAfterDays[i] === undefined ? {} : { rotAfterDays: rotAfterDays[i] }),
      }));
      const winFrom = stages.filter((_, i) => winMask[i]).map((s) => s.id);
      return {
        id: processId,
        name: `Process ${processId}`,
        stages,
        rules: { allowSkipping, allowBackward, winFrom: winFrom.length > 0 ? winFrom : [stages[stages.length - 1]!.id] },
        lostReasons,
        ...(wonReasons ? { wonReasons } : {}),
        teams,
      };
    });

// Business-time steps: the same instant, seconds, minutes, hours, days.
const DELTAS_MS = [0, 1_000, 60_000, 3_600_000, 86_400_000, 9 * 86_400_000] as const;

type Step =
  | { t: 'open'; process: number; team: number | undefined; owner: number | undefined; amount: number | undefined; currency: number | undefined; start: number; closeDay: number | undefined }
  | { t: 'advance'; opp: number; to: number; dt: number }
  | { t: 'meet'; opp: number; criterion: number; dt: number }
  | { t: 'revoke'; opp: number; criterion: number; dt: number }
  | { t: 'move'; opp: number; to: number; dt: number }
  | { t: 'win'; opp: number; dt: number; reason: number }
  | { t: 'lose'; opp: number; reason: number; dt: number }
  | { t: 'reopen'; opp: number; to: number | undefined; dt: number }
  | { t: 'details'; opp: number; team: number | undefined; owner: number | undefined; amount: number | undefined; currency: number | undefined; dt: number; closeDay: number | null | undefined }
  | { t: 'version'; process: number; definition: number }
  | { t: 'migrate'; opp: number; to: number; remap: boolean; dt: number }
  | { t: 'noise'; kind: number };

const nat = fc.nat({ max: 1000 });
const dt = fc.nat({ max: DELTAS_MS.length - 1 });
const maybe = (arbitrary: fc.Arbitrary<number>) => fc.option(arbitrary, { nil: undefined, freq: 4 });
// Whole amounts and amounts with cents, so sums are not all integers.
const amount = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000_000 }).map((cents) => cents / 100));

// Expected close days around the generated business times (day numbers), so periods vary and
// some fall before the deal's own events.
const closeDay = fc.integer({ min: Math.floor(EPOCH / 86_400_000) - 40, max: Math.floor((EPOCH + SPAN_MS) / 86_400_000) + 120 });

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('open' as const), process: nat, team: maybe(nat), owner: maybe(nat), amount: maybe(amount), currency: maybe(nat), start: fc.nat({ max: SPAN_MS / 2 }), closeDay: maybe(closeDay) }) },
  { weight: 12, arbitrary: fc.record({ t: fc.constant('advance' as const), opp: nat, to: nat, dt }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('meet' as const), opp: nat, criterion: nat, dt }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('revoke' as const), opp: nat, criterion: nat, dt }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('move' as const), opp: nat, to: nat, dt }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('win' as const), opp: nat, dt, reason: nat }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lose' as const), opp: nat, reason: nat, dt }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reopen' as const), opp: nat, to: maybe(nat), dt }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('details' as const), opp: nat, team: maybe(nat), owner: maybe(nat), amount: maybe(amount), currency: maybe(nat), dt, closeDay: fc.option(fc.option(closeDay, { nil: null }), { nil: undefined, freq: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('version' as const), process: nat, definition: nat }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('migrate' as const), opp: nat, to: nat, remap: fc.boolean(), dt }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('noise' as const), kind: nat }) },
);

/** Random valid histories of up to `maxSteps` steps over 1–3 processes with 1–3 definitions each. */
export function historyArbitrary({ maxSteps = 200 }: { maxSteps?: number } = {}): fc.Arbitrary<GeneratedHistory> {
  return fc
    .integer({ min: 1, max: PROCESS_IDS.length })
    .chain((processCount) =>
      fc.record({
        definitions: fc.tuple(...PROCESS_IDS.slice(0, processCount).map((id) => fc.array(definitionArbitrary(id), { minLength: 1, maxLength: 3 }))),
        steps: fc.array(stepArbitrary, { maxLength: maxSteps, size: 'max' }),
      }),
    )
    .map(({ definitions, steps }) => buildHistory(definitions, steps));
}

interface GeneratedOpportunity {
  readonly id: string;
  /** The version it runs on: the one it opened with, until a migration moves it. */
  process: CompiledProcess;
  state: OpportunityState;
  clock: number;
}

function buildHistory(definitionsByProcess: readonly ProcessDefinition[][], steps: readonly Step[]): GeneratedHistory {
  const events: ProjectedEvent[] = [];
  const clean: ProjectedEvent[] = [];
  let position = 0;
  // Each stream's revisions, as a store gives them: the PostgreSQL fold reads no record back for a deal whose opening is revision 0.
  const revisions = new Map<string, number>();
  const append = (stream: string, type: string, data: Record<string, unknown>, noise = false) => {
    position += noise ? 2 : 1; // positions need not be dense
    const revision = revisions.get(stream) ?? 0;
    revisions.set(stream, revision + 1);
    const event = { position, stream, revision, type, data };
    events.push(event);
    if (!noise) clean.push(event);
  };

  const compiled = definitionsByProcess.map((definitions) => definitions.map(compileProcess));
  const current: CompiledProcess[] = [];
  // Per process: version → index of its latest recording, as the registry orders versions for migrations.
  const recordedOrder: Map<string, { process: CompiledProcess; recordedOrder: number }>[] = [];
  let recordings = 0;
  const record = (processIndex: number, process: CompiledProcess) => {
    current[processIndex] = process;
    (recordedOrder[processIndex] ??= new Map()).set(process.version, { process, recordedOrder: recordings++ });
    const { id } = process.definition;
    append(`${PROCESS_STREAM_PREFIX}${id}`, PROCESS_VERSION_RECORDED, { processId: id, version: process.version, definition: process.definition, source: `config/processes/${id}.yaml` });
  };
  compiled.forEach((versions, index) => record(index, versions[0]!));

  const opportunities: GeneratedOpportunity[] = [];
  const run = (opportunity: GeneratedOpportunity, body: Record<string, unknown>, deltaIndex: number): boolean => {
    opportunity.clock += DELTAS_MS[deltaIndex]!;
    const command = { ...body, opportunityId: opportunity.id, now: COMMAND_NOW, occurredAt: new Date(opportunity.clock).toISOString() } as OpportunityCommand;
    const processIndex = PROCESS_IDS.indexOf(opportunity.process.definition.id as (typeof PROCESS_IDS)[number]);
    const decision = decide(command, opportunity.state, opportunity.process, (version) => recordedOrder[processIndex]!.get(version));
    if (!decision.ok) return false;
    for (const event of decision.events) {
      opportunity.state = evolve(opportunity.state, event);
      append(toOpportunityStreamId(opportunity.id), event.type, event.data as unknown as Record<string, unknown>);
    }
    return true;
  };
  const stageOf = (opportunity: GeneratedOpportunity, index: number) => {
    const { stages } = opportunity.process.definition;
    return stages[index % stages.length]!;
  };
  const meetAll = (opportunity: GeneratedOpportunity, deltaIndex: number) => {
    const { state } = opportunity;
    if (state.status !== 'open') return;
    for (const criterion of opportunity.process.stage(state.stage)!.exitCriteria) run(opportunity, { type: 'MeetExitCriterion', criterionId: criterion.id }, deltaIndex);
  };
  const details = (step: { team: number | undefined; owner: number | undefined; amount: number | undefined; currency: number | undefined }, process: CompiledProcess) => {
    const teams = process.definition.teams.length > 0 ? process.definition.teams : TEAMS;
    return {
      ...(step.team === undefined ? {} : { teamId: teams[step.team % teams.length] }),
      ...(step.owner === undefined ? {} : { ownerId: OWNERS[step.owner % OWNERS.length] }),
      ...(step.amount === undefined ? {} : { amount: step.amount }),
      ...(step.currency === undefined ? {} : { currency: CURRENCIES[step.currency % CURRENCIES.length] }),
    };
  };

  const wonReasonOf = (opportunity: GeneratedOpportunity, index: number) => {
    const reasons = opportunity.process.definition.wonReasons;
    return reasons ? { reason: reasons[index % reasons.length] } : {};
  };

  for (const step of steps) {
    if (step.t === 'open') {
      const processIndex = step.process % current.length;
      const process = current[processIndex]!;
      const opportunity: GeneratedOpportunity = { id: `o${opportunities.length}`, process, state: { status: 'none' }, clock: EPOCH + step.start };
      opportunities.push(opportunity);
      run(opportunity, { type: 'OpenOpportunity', processId: process.definition.id, title: `Deal ${opportunity.id}`, ...details(step, process), ...(step.closeDay === undefined ? {} : { expectedCloseDate: calendarDateOf(step.closeDay) }) }, 0);
      continue;
    }
    if (step.t === 'version') {
      // As the registry does: a definition becomes the latest unless it already is (reverting records again).
      const processIndex = step.process % current.length;
      const next = compiled[processIndex]![step.definition % compiled[processIndex]!.length]!;
      if (next.version !== current[processIndex]!.version) record(processIndex, next);
      continue;
    }
    if (step.t === 'noise') {
      const [stream, type, data] = NOISE[step.kind % NOISE.length]!;
      append(stream, type, { ...data }, true);
      continue;
    }
    if (opportunities.length === 0) continue;
    const opportunity = opportunities[step.opp % opportunities.length]!;
    const { state } = opportunity;
    switch (step.t) {
      case 'advance':
        // Meet every criterion, then move (forward, a skip or backward) when the rules allow it.
        meetAll(opportunity, step.dt);
        run(opportunity, { type: 'MoveOpportunityToStage', stage: stageOf(opportunity, step.to).id }, step.dt);
        break;
      case 'meet':
      case 'revoke':
        if (state.status === 'open') {
          const criteria = opportunity.process.stage(state.stage)!.exitCriteria;
          if (criteria.length > 0) {
            run(opportunity, { type: step.t === 'meet' ? 'MeetExitCriterion' : 'RevokeExitCriterion', criterionId: criteria[step.criterion % criteria.length]!.id }, step.dt);
          }
        }
        break;
      case 'move':
        run(opportunity, { type: 'MoveOpportunityToStage', stage: stageOf(opportunity, step.to).id }, step.dt);
        break;
      case 'win':
        meetAll(opportunity, step.dt);
        run(opportunity, { type: 'WinOpportunity', ...wonReasonOf(opportunity, step.reason), ...nextStepsOf(step.reason) }, step.dt);
        break;
      case 'lose': {
        const reasons = opportunity.process.definition.lostReasons;
        run(opportunity, { type: 'LoseOpportunity', reason: reasons[step.reason % reasons.length], ...nextStepsOf(step.reason >> 1) }, step.dt);
        break;
      }
      case 'reopen':
        run(opportunity, { type: 'ReopenOpportunity', ...(step.to === undefined ? {} : { stage: stageOf(opportunity, step.to).id }) }, step.dt);
        break;
      case 'details':
        // A rename on about a third of them (from the step's own draw, so seeds replay as before): the search finds the new title, the board as of an instant shows the title then.
        run(opportunity, { type: 'ChangeOpportunityDetails', ...details(step, opportunity.process), ...(step.dt % 3 === 0 ? { title: `Renamed ${opportunity.id} ${step.dt}` } : {}), ...(step.closeDay === undefined ? {} : { expectedCloseDate: step.closeDay === null ? null : calendarDateOf(step.closeDay) }) }, step.dt);
        break;
      case 'migrate': {
        // To the latest version of its process, mapping the current stage when the target lacks it (or when asked to).
        if (state.status !== 'open') break;
        const target = current[PROCESS_IDS.indexOf(opportunity.process.definition.id as (typeof PROCESS_IDS)[number])]!;
        const stages = target.definition.stages;
        const needsMapping = target.stageIndex(state.stage) < 0;
        const stageMapping = needsMapping || step.remap ? { [state.stage]: stages[step.to % stages.length]!.id } : undefined;
        if (run(opportunity, { type: 'MigrateOpportunity', toVersion: target.version, ...(stageMapping ? { stageMapping } : {}) }, step.dt)) opportunity.process = target;
        break;
      }
    }
  }
  return { events, clean };
}

// Events of other streams and types, including look-alikes: an opportunity event type in another
// stream, a process version outside `sales-process-…`, an unknown type in an opportunity stream.
const NOISE: readonly (readonly [string, string, Record<string, unknown>])[] = [
  ['api-key-k1', 'ApiKeyIssued', { keyId: 'k1', occurredAt: '2026-01-02T00:00:00.000Z' }],
  ['import-batch-1', 'OpportunityOpened', { opportunityId: 'o0', occurredAt: '2026-01-01T00:00:00.000Z', processId: 'p0', processVersion: 'x', stage: 's0', title: 'Fake', amount: 999 }],
  ['import-batch-1', 'OpportunityWon', { opportunityId: 'o1', occurredAt: '2026-02-01T00:00:00.000Z', stage: 's0', amount: 5 }],
  ['quotes-o2', 'StageChanged', { opportunityId: 'o2', occurredAt: '2026-02-01T00:00:00.000Z', from: 's0', to: 's1', direction: 'forward' }],
  ['audit-log', PROCESS_VERSION_RECORDED, { processId: 'p0', version: 'fake', definition: { id: 'p0', stages: [{ id: 'zz', name: 'Z', probability: 1, exitCriteria: [] }] }, source: 'x' }],
  [toOpportunityStreamId('o0'), 'OpportunityNoteAdded', { opportunityId: 'o0', occurredAt: '2026-01-03T00:00:00.000Z', note: 'hello' }],
  [toOpportunityStreamId('o1'), 'OpportunityWon', { opportunityId: 'o9', occurredAt: '2026-01-03T00:00:00.000Z', stage: 's0' }],
];

const occurredMs = (event: ProjectedEvent): number => Date.parse(String(event.data.occurredAt));

/** Every business time (occurredAt) in a history, in ms: sorted, each once. */
export function instantsOf(history: GeneratedHistory): number[] {
  return [...new Set(history.clean.map(occurredMs).filter(Number.isFinite))].sort((a, b) => a - b);
}

/** The business times of each opportunity's first and last event: openings, and the latest closing of a closed one. */
function endsOfLives(history: GeneratedHistory): { firsts: number[]; lasts: number[] } {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const event of history.clean) {
    if (!event.stream.startsWith(OPPORTUNITY_STREAM_PREFIX)) continue;
    const ms = occurredMs(event);
    if (!first.has(event.stream)) first.set(event.stream, ms);
    last.set(event.stream, ms);
  }
  return { firsts: [...first.values()], lasts: [...last.values()] };
}

/** Anywhere in and around the span of generated business time. */
const anywhere = fc.integer({ min: EPOCH - 86_400_000, max: EPOCH + 2 * SPAN_MS });

/**
 * An instant to ask `history` about, drawn on purpose where an inclusive and an exclusive bound
 * answer differently: mostly an event's exact business time, or 1 ms either side of one; sometimes
 * anywhere. Random instants alone almost never land on an event, so `>=` and `>` (or `<=` and `<`)
 * would pass the same specs. Besides any event, the ends of each opportunity's life are drawn
 * often: the opening (what the funnel's period selects) and the last event, which for a closed
 * deal is its latest closing (what win/loss and the closed sections select); among all events
 * these few would rarely come up.
 */
export function instantArbitraryFor(history: GeneratedHistory): fc.Arbitrary<number> {
  const instants = instantsOf(history);
  if (instants.length === 0) return anywhere;
  const { firsts, lasts } = endsOfLives(history);
  const near = (pool: readonly number[]) => fc.tuple(fc.constantFrom(...pool), fc.constantFrom(0, 0, -1, 1)).map(([at, offset]) => at + offset);
  return fc.oneof(
    { weight: 2, arbitrary: near(instants) },
    { weight: 1, arbitrary: near(firsts) },
    { weight: 2, arbitrary: near(lasts) },
    { weight: 1, arbitrary: anywhere },
  );
}

/** The same as ISO text, as a query parameter carries it. */
export const isoInstantArbitraryFor = (history: GeneratedHistory): fc.Arbitrary<string> => instantArbitraryFor(history).map((ms) => new Date(ms).toISOString());

/** Absent (the key left out) `absent` times in `absent + 1`. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, absent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

/**
 * Random analytics filters over the generated vocabulary, including values nothing matches, with
 * from/to drawn on and beside the history's own instants (see instantArbitraryFor). Each of
 * process, team and owner is given one time in three: with all three most filters match nothing,
 * and a bound met at its edge must have something there to count or leave out.
 */
export function filterArbitraryFor(history: GeneratedHistory): fc.Arbitrary<AnalyticsFilter> {
  return fc
    .record({
      processId: sometimes(fc.constantFrom(...PROCESS_IDS, 'ghost'), 2),
      teamId: sometimes(fc.constantFrom(...TEAMS, 'ghost'), 2),
      ownerId: sometimes(fc.constantFrom(...OWNERS), 2),
      from: sometimes(isoInstantArbitraryFor(history), 1),
      to: sometimes(isoInstantArbitraryFor(history), 1),
    })
    .map((filter) => Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as AnalyticsFilter);
}

/** A query-time `now`: on or beside an event, or anywhere up to well after every event (ages before an entry are floored at 0). */
export function nowArbitraryFor(history: GeneratedHistory): fc.Arbitrary<string> {
  return fc.oneof(isoInstantArbitraryFor(history), fc.integer({ min: EPOCH, max: EPOCH + 3 * SPAN_MS }).map((ms) => new Date(ms).toISOString()));
}

/**
 * A random history with questions drawn from it (its instants, for boundaries): the pair a
 * property of a read model takes, `fc.property(historyWith((h) => fc.array(filterArbitraryFor(h))), ([history, filters]) => …)`.
 */
export function historyWith<Q>(questions: (history: GeneratedHistory) => fc.Arbitrary<Q>, options?: { maxSteps?: number }): fc.Arbitrary<[GeneratedHistory, Q]> {
  return historyArbitrary(options).chain((history) => questions(history).map((asked): [GeneratedHistory, Q] => [history, asked]));
}
