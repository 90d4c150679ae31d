import { ApiError, resending, type ApiClient } from './api.client';
import type { CommandAnswer, CriterionDescription, OpportunityView, ProblemBody } from '@stagecraft/contracts';
import type { BoardCard, MoveTarget } from './board.model';
import { byId, evidenceNotes, focusKeeper, h } from './dom';
import { isolated, quotedTitle } from './format';
import { goneText, inWords, isGone, targetInSentence } from './moves.model';

export interface CriteriaPanelOutcome {
  /** The move's answer once it went through; null when the panel was closed before. */
  readonly moved: CommandAnswer | null;
  /** The last log position this panel wrote, to read the board with ?minPosition=. */
  readonly position: number | null;
}

/**
 * The move was refused for unmet exit criteria (422 OPPORTUNITY.EXIT_CRITERIA_UNMET): list them as
 * checkboxes; ticking one sends the criterion command; "Move" retries the move. Every command
 * carries the revision last read, so a change made meanwhile by someone else is a 409, upon which
 * the panel reloads the opportunity and shows what is now true instead of overwriting it.
 */
/** The open panel, taking another key's scope (rescopeCriteriaPanel); null while none is open. */
let rescopeHere: ((scope: CriteriaScope) => void) | null = null;

/** The key signed in with, as an open panel needs it: whether it sees only some teams (goneText), and why it may not tick or move (null: it may). */
export interface CriteriaScope {
  readonly limitedToTeams: boolean;
  readonly readOnly: string | null;
}

/**
 * Signed in again over the panel with a key of other roles or teams (main.ts rescope): a read-only
 * key is offered no tick and no move, and told why (they were offered, and refused with 403), and a
 * deal not found is said as that key is told.
 */
export function rescopeCriteriaPanel(scope: CriteriaScope): void {
  rescopeHere?.(scope);
}

export function openCriteriaPanel(
  api: ApiClient,
  card: BoardCard,
  target: MoveTarget,
  refusal: ProblemBody,
  retryMove: (expectedRevision: number, idempotencyKey: string) => Promise<CommandAnswer>,
  /** The key sees only some teams (goneText). */
  limitedToTeams = false,
): Promise<CriteriaPanelOutcome> {
  const dialog = byId<HTMLDialogElement>('criteria-panel');
  let unmet: readonly CriterionDescription[] = refusal.unmetCriteria ?? [];
  let opportunity: OpportunityView | null = null;
  let position: number | null = null;
  let busy = false;
  const notes = evidenceNotes(card.id);
  const redraw = focusKeeper(dialog);
  /** A tick or the move sent again after no answer goes under the key it went under: recorded once, and said as done. */
  const tick = resending();
  const retry = resending();
  let limited = limitedToTeams;
  /** Why the key signed in may not tick or move (a read-only key signed in over the panel); null: it may. */
  let readOnly: string | null = null;

  return new Promise((resolve) => {
    const finish = (moved: CommandAnswer | null) => {
      if (rescopeHere === rescopeThis) rescopeHere = null;
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve({ moved, position });
    };
    const onClose = () => finish(null);
    dialog.addEventListener('close', onClose);

    const met = (criterionId: string) => opportunity?.exitCriteria.find((criterion) => criterion.id === criterionId)?.met ?? false;
    const message = h('p', { class: 'panel-message', role: 'status', 'aria-live': 'polite' });
    const say = (text: string, tone: 'info' | 'error' = 'info') => {
      message.textContent = text;
      message.dataset.tone = tone;
    };

    const reload = async (why?: string) => {
      opportunity = await api.get<OpportunityView>(`/opportunities/${card.id}`);
      if (why) say(why, 'error');
      render();
    };

    const fail = async (error: unknown) => {
      if (error instanceof ApiError && isGone(error.problem)) {
        say(goneText(card.title, limited), 'error'); // nothing to read again: closed, the board drops its card
      } else if (error instanceof ApiError && error.status === 409) {
        await reload('Someone else changed this opportunity meanwhile; it was reloaded. Check the boxes again if needed.');
      } else if (error instanceof ApiError && error.problem.code === 'OPPORTUNITY.EXIT_CRITERIA_UNMET') {
        unmet = error.problem.unmetCriteria ?? unmet;
        await reload('Exit criteria are still unmet: tick what is now true.');
      } else {
        say(error instanceof ApiError ? inWords(error.problem.detail ?? error.problem.code, null) : String(error), 'error');
      }
    };

    const run = async (work: () => Promise<void>) => {
      if (busy || readOnly !== null) return;
      busy = true;
      render();
      try {
        await work();
      } catch (error) {
        await fail(error).catch((reloadError: unknown) => say(String(reloadError), 'error'));
      } finally {
        busy = false;
        if (dialog.open) render();
      }
    };

    const render = () => {
      // A read-only key may tick nothing and move nothing: as a panel whose deal left the stage.
      const stillOpen = readOnly === null && opportunity && opportunity.status === 'open' && opportunity.stage === refusal.stage;
      const checkboxes = unmet.map((criterion) => {
        const box = h('input', { type: 'checkbox', id: `criterion-${criterion.id}`, name: criterion.id, checked: met(criterion.id), disabled: busy || !stillOpen });
        // An optional evidence note, sent with the tick; kept across redraws.
        const note = h('input', { type: 'text', id: `criterion-note-${criterion.id}`, class: 'criterion-note', dir: 'auto', placeholder: 'Evidence note (optional)', 'aria-label': `Evidence note for ${quotedTitle(criterion.description)}`, value: notes.get(criterion.id) ?? '', disabled: busy || !stillOpen });
        note.addEventListener('input', () => notes.set(criterion.id, note.value));
        box.addEventListener('change', () =>
          run(async () => {
            const text = (notes.get(criterion.id) ?? '').trim();
            const body = { criterionId: criterion.id, met: box.checked, ...(text ? { note: text } : {}), expectedRevision: opportunity!.revision };
            const answer = await tick(body, (key) => api.command(`/opportunities/${card.id}/criteria`, body, key));
            notes.delete(criterion.id);
            position = answer.position;
            await reload();
            say(`${box.checked ? 'Marked' : 'Unmarked'}: ${isolated(criterion.description)}`);
          }),
        );
        return h('li', {}, box, h('div', {}, h('label', { for: `criterion-${criterion.id}` }, criterion.description), note));
      });
      const allMet = unmet.every((criterion) => met(criterion.id));
      // Ids, so that a redraw gives them their focus back (focusKeeper).
      const moveButton = h('button', { type: 'button', id: 'criteria-panel-move', class: 'primary', disabled: busy || !allMet || !stillOpen }, `Move to ${targetInSentence(target)}`);
      moveButton.addEventListener('click', () =>
        run(async () => {
          const expectedRevision = opportunity!.revision;
          const answer = await retry(expectedRevision, (key) => retryMove(expectedRevision, key));
          position = answer.position;
          finish(answer);
        }),
      );
      const closeButton = h('button', { type: 'button', id: 'criteria-panel-close' }, 'Close');
      closeButton.addEventListener('click', () => finish(null));
      // Redrawing must not throw the keyboard user's place away (a ticked box keeps the focus).
      redraw(() => dialog.replaceChildren(
        h('h2', { id: 'criteria-panel-title' }, '“', h('bdi', {}, card.title), '” cannot leave ', h('bdi', {}, opportunity?.stageName ?? refusal.stage), ' yet'),
        h('p', {}, 'Its expected results are not all met. Tick what is now true, then move it.'),
        readOnly !== null ? h('p', { class: 'panel-message', 'data-tone': 'error', 'data-figure': 'read-only' }, readOnly) : stillOpen || !opportunity ? '' : h('p', { class: 'panel-message', 'data-tone': 'error' }, `It is now ${opportunity.status === 'open' ? `in ${isolated(opportunity.stageName ?? opportunity.stage)}` : opportunity.status}; close this panel.`),
        h('ul', { class: 'criteria' }, ...checkboxes),
        message,
        h('div', { class: 'panel-actions' }, closeButton, moveButton),
      ));
    };

    const rescopeThis = (scope: CriteriaScope) => {
      limited = scope.limitedToTeams;
      readOnly = scope.readOnly;
      if (dialog.open) render();
    };
    rescopeHere = rescopeThis;

    render();
    dialog.showModal();
    // Its boxes can be ticked once the deal is read: the keyboard starts at the first one not ticked.
    void run(() => reload()).then(() => dialog.querySelector<HTMLInputElement>('ul.criteria input[type=checkbox]:not(:checked):not([disabled])')?.focus());
  });
}
