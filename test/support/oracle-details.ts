/** A PATCH /opportunities/:id body as the oracles send it: the details a deal changes. */
export interface DetailsChange {
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly amount?: number;
  readonly currency?: string;
  readonly expectedCloseDate?: string | null;
}

/** What a details change sets in an oracle's model of the deal (its own names for the fields), only the fields the body holds. */
export function modelFieldsOf(change: DetailsChange): { team?: string; owner?: string; amount?: number; currency?: string; closeDate?: string | null } {
  return {
    ...(change.teamId !== undefined ? { team: change.teamId } : {}),
    ...(change.ownerId !== undefined ? { owner: change.ownerId } : {}),
    ...(change.amount !== undefined ? { amount: change.amount } : {}),
    ...(change.currency !== undefined ? { currency: change.currency } : {}),
    ...('expectedCloseDate' in change ? { closeDate: change.expectedCloseDate ?? null } : {}),
  };
}
