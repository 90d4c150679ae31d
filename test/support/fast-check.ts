import fc from 'fast-check';

// Every property of the suite runs through here (a lint rule refuses a bare fc.assert), so each
// is reproducible and says how to replay a failure:
// - a fixed seed by default, so `npm test` checks the same cases on every machine and run;
// - FC_SEED=<n> runs every property from that seed (FC_SEED=random: a new one each run, for
//   exploring beyond the fixed cases); FC_PATH=<path> with it replays one failure straight to its
//   shrunk counterexample (select that one test with -t: a path belongs to one property);
// - FC_END_ON_FAILURE=1 stops at the first failing case without shrinking it (the mutation check
//   only needs to know that a property fails, not its smallest counterexample);
// - on failure the message ends with the command that replays it.
// README.md, "Tests", says the same for users.

/** The seed of every property that names none: a day of this project, nothing more. */
export const DEFAULT_SEED = 20261128;

function seedFromEnv(): number | undefined {
  const text = process.env.FC_SEED?.trim();
  if (!text) return undefined;
  if (text === 'random') return (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer or "random" (got "${text}")`);
  return seed;
}

// Read once per test file, so FC_SEED=random gives every property of a file the same seed, printed on failure.
const SEED_FROM_ENV = seedFromEnv();

/** The parameters a property runs with: the caller's, with the seed, path and verbosity above. */
export function replayableParameters<Ts>(parameters: fc.Parameters<Ts> = {}): fc.Parameters<Ts> {
  const path = process.env.FC_PATH?.trim();
  return {
    ...parameters,
    seed: SEED_FROM_ENV ?? parameters.seed ?? DEFAULT_SEED,
    ...(path ? { path } : {}),
    verbose: parameters.verbose ?? fc.VerbosityLevel.Verbose,
    ...(process.env.FC_END_ON_FAILURE === '1' ? { endOnFailure: true } : {}),
  };
}

/** The shell command that replays a failed run of the current Jest test. */
export function replayCommand(seed: number, path: string): string {
  const { currentTestName, testPath } = expect.getState();
  const file = testPath ? testPath.replace(`${process.cwd()}/`, '') : '<spec file>';
  const name = (currentTestName ?? '').replace(/[\\"$`]/g, '\\$&');
  return `FC_SEED=${seed} FC_PATH=${path} npx jest ${file} -t "${name}" --selectProjects sqlite`;
}

function failure<Ts>(details: fc.RunDetails<Ts>, report: string): Error {
  return new Error(`${report}\n\nReplay this failure: ${replayCommand(details.seed, details.counterexamplePath ?? '')}`, { cause: details.errorInstance });
}

/**
 * fc.assert with a reproducible seed: throws fast-check's report (seed, path, counterexample,
 * shrinking) followed by the command that replays it.
 */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, parameters?: fc.Parameters<Ts>): void;
export function assertProperty<Ts>(property: fc.IAsyncProperty<Ts>, parameters?: fc.Parameters<Ts>): Promise<void>;
export function assertProperty<Ts>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, parameters?: fc.Parameters<Ts>): void | Promise<void> {
  const settings = replayableParameters(parameters);
  if (property.isAsync()) {
    return fc.check(property as fc.IAsyncProperty<Ts>, settings).then(async (details) => {
      if (details.failed) throw failure(details, (await fc.asyncDefaultReportMessage(details))!);
    });
  }
  const details = fc.check(property as fc.IProperty<Ts>, settings);
  if (details.failed) throw failure(details, fc.defaultReportMessage(details)!);
}
