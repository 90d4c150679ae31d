import type { CatalogVersion } from './process-catalog';

// How far a deal got, for the funnel (funnel.projection.ts, and the PostgreSQL fold's
// furthest_rank): reached(i) counts the deals that entered stage i or a later one of their own
// version. A migration to another version keeps past visits under the stage ids they had, so what
// carries over is every stage the deal entered that the new version has (by id), and the stage it
// goes on in; the stage mapping moves the open visit and nothing more. Carrying only the furthest
// stage lost a kept stage behind a dropped one (a → b → c → a, migrated to [a, b, d]: b reached),
// and carrying it through the mapping counted a stage never entered (c mapped to d: d not reached).
// So each deal keeps, besides its furthest rank, the ranks it entered in its version as bits.

/** Ranks below this are kept as bits; a deal past them carries its furthest stage alone (versions of 31 stages and more). */
export const ENTERED_RANK_BITS = 31;

/** `entered` with `rank` added. */
export function withEnteredRank(entered: number, rank: number): number {
  return rank >= 0 && rank < ENTERED_RANK_BITS ? entered | (1 << rank) : entered;
}

/**
 * What a migration from version `from` to `to` leaves: the furthest rank and the ranks entered, in
 * `to`'s order, of the stages entered in `from` (`entered`, `maxRank`) that `to` has, and of the
 * stage the deal goes on in (`stageKey`, a key `to` has).
 */
export function reachAfterMigration(from: CatalogVersion, to: CatalogVersion, reach: { readonly maxRank: number; readonly entered: number }, stageKey: number): { maxRank: number; entered: number } {
  let maxRank = to.rankByKey.get(stageKey)!;
  let entered = withEnteredRank(0, maxRank);
  const carry = (oldRank: number) => {
    const rank = to.rankByKey.get(from.stageKeys[oldRank]!);
    if (rank === undefined) return; // a stage the new version lacks: its visits keep its id
    entered = withEnteredRank(entered, rank);
    if (rank > maxRank) maxRank = rank;
  };
  for (let rank = 0; rank < Math.min(ENTERED_RANK_BITS, from.stageKeys.length); rank++) if ((reach.entered & (1 << rank)) !== 0) carry(rank);
  if (reach.maxRank >= ENTERED_RANK_BITS) carry(reach.maxRank);
  return { maxRank, entered };
}
