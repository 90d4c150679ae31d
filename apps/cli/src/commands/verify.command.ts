import { ChainVerifier, summarise, verifyStreamChain, type ChainBreak, type ChainVerdict } from '@stagecraft/audit';
import { OPPORTUNITY_STREAM_PREFIX, toOpportunityStreamId } from '@stagecraft/opportunity';
import { PROCESS_STREAM_PREFIX } from '@stagecraft/sales-process';
import type { Settings } from '@stagecraft/config';
import { CliError, EXIT } from '../cli.errors';
import { readAllPages } from '@stagecraft/event-store';
import { openExistingStore } from '../io/event-store';
import { opportunityIdFor } from '../io/opportunity-id';
import { progressBar } from '../io/progress';

export interface VerifyOptions {
  readonly all?: boolean;
  readonly json?: boolean;
  /** Also fail when a stream holds only events from before tamper evidence (nothing vouches for them). */
  readonly strict?: boolean;
}

const PAGE = 5_000;

/**
 * `stagecraft verify <id>` / `--all`: recomputes the SHA-256 chain of one opportunity (or of every
 * stream in the log) and names the first place where it does not hold. Exit 0 intact, 1 broken.
 */
export async function verifyChains(settings: Settings, target: string | undefined, options: VerifyOptions): Promise<number> {
  if ((target === undefined) === !options.all) throw new CliError('Give one opportunity id (or stream name), or --all.');
  const store = openExistingStore(settings);
  try {
    if (target !== undefined) {
      const stream = target.startsWith(OPPORTUNITY_STREAM_PREFIX) || target.startsWith(PROCESS_STREAM_PREFIX) ? target : toOpportunityStreamId(opportunityIdFor(target));
      const events = await store.readStream(stream);
      if (events.length === 0) throw new CliError(`There is no stream ${stream} in ${settings.eventStorePath}.`, EXIT.failed);
      const verdict = verifyStreamChain(events, stream);
      if (options.json) console.log(JSON.stringify(verdict, null, 2));
      else console.log(describe(verdict));
      return exitCodeOf([verdict], options);
    }

    const head = await store.headPosition();
    const progress = progressBar('verify', head, 'positions');
    const verifier = new ChainVerifier();
    let checked = 0;
    for await (const page of readAllPages(store, { pageSize: PAGE })) {
      for (const event of page) verifier.add(event);
      checked += page.length;
      progress.update(page[page.length - 1]!.position);
    }
    progress.stop();
    const verdicts = verifier.verdicts();
    const summary = summarise(verdicts);
    if (options.json) {
      console.log(JSON.stringify({ ...summary, eventsChecked: checked, head }, null, 2));
    } else {
      console.log(
        summary.ok
          ? `Intact: ${summary.streams} stream(s), ${checked} event(s), up to position ${head}.`
          : `BROKEN: ${summary.broken.length} of ${summary.streams} stream(s); ${checked} event(s) checked up to position ${head}.`,
      );
      for (const broken of summary.broken) console.log(describe(broken));
      if (summary.unchained > 0) {
        console.log(
          `  ${summary.unchained} event(s) predate tamper evidence; ${summary.uncoveredStreams} stream(s) hold only such events, so nothing vouches for them${options.strict ? ' (a failure with --strict)' : ''}.`,
        );
      }
    }
    return exitCodeOf(verdicts, options);
  } finally {
    await store.close();
  }
}

function exitCodeOf(verdicts: readonly ChainVerdict[], options: VerifyOptions): number {
  const broken = verdicts.some((verdict) => !verdict.ok);
  const uncovered = verdicts.some((verdict) => verdict.ok && !verdict.unchainedCovered);
  return broken || (options.strict && uncovered) ? EXIT.failed : EXIT.ok;
}

function describe(verdict: ChainVerdict): string {
  if (!verdict.ok) return describeBreak(verdict);
  const old = verdict.unchained > 0 ? `; ${verdict.unchained} event(s) predate tamper evidence${verdict.unchainedCovered ? ', vouched for by the chain after them' : ' and nothing vouches for them'}` : '';
  return `Intact: ${verdict.stream}, ${verdict.events} event(s), revisions 0–${verdict.lastRevision ?? '-'}${old}\n  head hash ${verdict.headHash} (keep it: a later verify that ends elsewhere means events were removed from the end)`;
}

function describeBreak(broken: ChainBreak): string {
  return `BROKEN: ${broken.stream} at revision ${broken.revision}: ${broken.reason} — ${broken.detail}`;
}
