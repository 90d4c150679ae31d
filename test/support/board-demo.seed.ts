// Demo opportunities for the board, sent through the public HTTP API like any client: the
// end-to-end test of the board and `npm run docs:screenshots` both start from them. Business
// times are backdated (occurredAt) from `now`, so days in stage and durations look real.

export interface ApiCaller {
  command(path: string, body: object): Promise<{ id: string; position: number; revision: number }>;
  get<T>(path: string): Promise<T>;
  readonly lastPosition: () => number;
}

export function apiCaller(baseUrl: string, key: string): ApiCaller {
  let lastPosition = 0;
  const call = async (method: string, path: string, body?: object) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  return {
    async command(path, body) {
      const answer = (await call('POST', path, body)) as { id: string; position: number; revision: number };
      lastPosition = Math.max(lastPosition, answer.position);
      return answer;
    },
    get: async <T>(path: string) => (await call('GET', path)) as T,
    lastPosition: () => lastPosition,
  };
}

const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
const PROPOSITION = ['proposal-given', 'decision-maker-interest', 'pricing-agreed'];
const NEGOTIATION = ['negotiation-concluded', 'terms-agreed', 'contract-submitted'];

type Step =
  | { readonly day: number; readonly move: string }
  | { readonly day: number; readonly meet: readonly string[] }
  | { readonly day: number; readonly win: true }
  | { readonly day: number; readonly lose: string };

interface Deal {
  readonly title: string;
  readonly teamId: string;
  readonly ownerId: string;
  readonly amount: number;
  readonly openedDay: number;
  readonly steps: readonly Step[];
}

// Days are counted back from now: -40 is forty days ago.
const through = (stage: 'qualification' | 'proposition' | 'negotiation', days: readonly number[]): Step[] => {
  const plan: [string, readonly string[]][] = [
    ['qualification', QUALIFICATION],
    ['proposition', PROPOSITION],
    ['negotiation', NEGOTIATION],
  ];
  const steps: Step[] = [];
  for (const [index, [next, criteria]] of plan.entries()) {
    steps.push({ day: days[index]!, move: next });
    if (next === stage) break;
    steps.push({ day: days[index + 1]! - 1, meet: criteria });
  }
  return steps;
};

export const DEMO_DEALS: readonly Deal[] = [
  { title: 'ACME renewal', teamId: 'direct', ownerId: 'ana', amount: 48000, openedDay: -40, steps: [...through('negotiation', [-35, -25, -15]), { day: -6, meet: NEGOTIATION }, { day: -5, win: true }] },
  { title: 'Stark retrofit', teamId: 'partners', ownerId: 'bob', amount: 54000, openedDay: -45, steps: [...through('negotiation', [-40, -30, -22]), { day: -11, meet: NEGOTIATION }, { day: -10, win: true }] },
  { title: 'Globex expansion', teamId: 'partners', ownerId: 'bob', amount: 30000, openedDay: -38, steps: [{ day: -30, move: 'qualification' }, { day: -20, lose: 'price' }] },
  { title: 'Massive Dynamic', teamId: 'direct', ownerId: 'chen', amount: 28000, openedDay: -35, steps: [{ day: -28, move: 'qualification' }, { day: -16, lose: 'no-budget' }] },
  { title: 'Wayne security', teamId: 'direct', ownerId: 'chen', amount: 9000, openedDay: -25, steps: [{ day: -12, lose: 'competitor' }] },
  { title: 'Tyrell upgrade', teamId: 'direct', ownerId: 'ana', amount: 40000, openedDay: -50, steps: [...through('negotiation', [-44, -34, -20]), { day: -8, meet: ['negotiation-concluded'] }] },
  { title: 'Initech pilot', teamId: 'direct', ownerId: 'chen', amount: 12000, openedDay: -30, steps: [...through('proposition', [-26, -18]), { day: -9, meet: ['proposal-given', 'decision-maker-interest'] }] },
  { title: 'Soylent supply', teamId: 'partners', ownerId: 'dana', amount: 16000, openedDay: -18, steps: through('proposition', [-14, -6]) },
  { title: 'Umbrella CRM', teamId: 'partners', ownerId: 'dana', amount: 75000, openedDay: -28, steps: [{ day: -21, move: 'qualification' }, { day: -15, meet: ['need-confirmed', 'budget-confirmed'] }] },
  { title: 'Oscorp lab kit', teamId: 'direct', ownerId: 'bob', amount: 21000, openedDay: -19, steps: [{ day: -12, move: 'qualification' }] },
  { title: 'Hooli analytics', teamId: 'direct', ownerId: 'ana', amount: 22000, openedDay: -20, steps: [] },
  { title: 'Cyberdyne audit', teamId: 'partners', ownerId: 'bob', amount: 7000, openedDay: -10, steps: [] },
  { title: 'Vandelay import', teamId: 'direct', ownerId: 'dana', amount: 5000, openedDay: -3, steps: [] },
];

/** Opens every demo deal and plays its steps; answers the ids by title. */
export async function seedBoardDemo(api: ApiCaller, now: Date): Promise<Record<string, string>> {
  const at = (day: number, minute = 0) => new Date(now.getTime() + day * 86_400_000 + minute * 60_000).toISOString();
  const ids: Record<string, string> = {};
  for (const deal of DEMO_DEALS) {
    const { id } = await api.command('/opportunities', {
      title: deal.title,
      processId: 'standard',
      teamId: deal.teamId,
      ownerId: deal.ownerId,
      amount: deal.amount,
      currency: 'EUR',
      occurredAt: at(deal.openedDay),
    });
    ids[deal.title] = id;
    for (const step of deal.steps) {
      const path = `/opportunities/${id}`;
      if ('move' in step) await api.command(`${path}/move`, { stage: step.move, occurredAt: at(step.day) });
      else if ('meet' in step) {
        for (const [index, criterionId] of step.meet.entries()) await api.command(`${path}/criteria`, { criterionId, met: true, occurredAt: at(step.day, index) });
      } else if ('win' in step) await api.command(`${path}/win`, { occurredAt: at(step.day) });
      else await api.command(`${path}/lose`, { reason: step.lose, occurredAt: at(step.day) });
    }
  }
  return ids;
}
