import { ApiError, outcomeUnknown, resending, type ApiClient } from './api.client';
import type { HistoryAnswer, OpportunityView, ProcessDetail } from '@stagecraft/contracts';
import { cardAsRead, overdue, type BoardCard, type BoardColumn, type MoveTarget } from './board.model';
import { focusCard, overdueMark, placeOf } from './board.view';
import { byId, evidenceNotes, focusKeeper, forgetEvidenceNotes, h } from './dom';
import { formatCalendarDay, formatDate, formatDealAmount, formatInstant, isolated, localDay, quotedTitle } from './format';
import { allowedTargets, goneText, inWords, isGone, moveChoices, type VersionDetail } from './moves.model';

/** Events the panel's timeline shows: the latest of the deal's history. */
const TIMELINE_EVENTS = 500;
import { timelineEntries } from './timeline.model';

// A deal at a glance, from a click on its card: its fields, the current stage's exit criteria
// (tick or untick, with an optional evidence note), the moves the process allows from here, and
// its timeline. What the key may not do is not offered: a read-only key sees the same panel
// without the buttons.

export interface SidePanelContext {
  /**
   * The process a deal is named and judged by: its own version's stages and moves, read when the
   * board has not drawn that version (a deal migrated meanwhile).
   */
  readonly detailOf: (card: Pick<BoardCard, 'processVersion'>) => Promise<VersionDetail>;
  readonly columns: readonly BoardColumn[];
  readonly canWrite: boolean;
  /** The timeline is the event history (GET /opportunities/:id/history: writer, analyst, auditor). */
  readonly canReadHistory: boolean;
  /** The key sees only some teams (goneText: a deal not found may have gone to another team). */
  readonly limitedToTeams: boolean;
  /** A command of the panel was recorded at this log position. */
  wrote(position: number): void;
  /** A move of the deal as the panel read it: at `expectedRevision`, so a deal changed since is refused (409), not moved on what the rep did not see. */
  move(card: BoardCard, target: MoveTarget, expectedRevision: number): void;
  edit(opportunity: OpportunityView): void;
  /** The deal is not found for this key any more (moved to a team it does not see): the board drops its card. */
  gone(): void;
}

export async function openSidePanel(api: ApiClient, card: BoardCard, context: SidePanelContext): Promise<void> {
  const dialog = byId<HTMLDialogElement>('side-panel');
  const message = h('p', { class: 'panel-message', role: 'status', 'aria-live': 'polite' });
  const say = (text: string, tone: 'info' | 'error' = 'info') => {
    message.textContent = text;
    message.dataset.tone = tone;
  };
  const close = h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Close the panel' }, 'Close');
  close.addEventListener('click', () => dialog.close());
  const body = h('div', { class: 'side-panel-body' }, h('p', {}, 'Loading…'));
  // This panel's own title: on a slow network an earlier panel's answer may come after the rep
  // closed it and opened another deal's, and must not rename that one (it only draws into its own, detached, elements).
  const title = h('h2', { id: 'side-panel-title', dir: 'auto' }, card.title);
  dialog.replaceChildren(h('header', { class: 'side-panel-header' }, title, close), message, body);
  if (!dialog.open) {
    // Where its card is: if the board drops it meanwhile (a deal gone from this key), the focus goes back near it.
    const columns = byId('columns');
    const place = placeOf(columns, card.id);
    dialog.showModal();
    // Closed, the panel gives the focus back to its card: the board behind it is drawn anew when the
    // panel changes the deal (a tick), and the title the rep came from is then gone from the page.
    dialog.addEventListener(
      'close',
      () => {
        const active = document.activeElement;
        if (active === null || active === document.body || dialog.contains(active)) focusCard(columns, card.id, '.card-title', place);
      },
      { once: true },
    );
  }
  // The panel takes the dialog before anything is awaited: a version read that is slow (asked again
  // after an earlier one failed) must not let a panel opened since be replaced by this one when it comes.
  // Until the deal is read, the version the card was drawn with names what goes wrong; from then on
  // the deal as read names its stages and offers its moves (someone may have migrated it meanwhile).
  let detail = await context.detailOf(card);
  /** Another deal's panel has taken the dialog since: this one reads nothing more (its answers could only be dropped). */
  const lost = () => !dialog.contains(body);

  let opportunity: OpportunityView;
  let busy = false;
  /**
   * Evidence notes typed, by criterion, until a tick records them: every redraw (the one that shows
   * the tick under way, a reload) draws the inputs anew, and a tick refused (a key to sign in again,
   * a 409, no answer) must leave the note where the rep typed it, to send again; so must closing the
   * panel before ticking (kept by deal: dom.ts evidenceNotes).
   */
  const notes = evidenceNotes(card.id);
  /** Reads the deal, and the version it is on now: names and moves both come from it. */
  const read = async () => {
    const fresh = await api.get<OpportunityView>(`/opportunities/${card.id}`);
    if (fresh.status !== 'open') forgetEvidenceNotes([card.id]); // closed: its criteria are no longer to tick
    if (lost()) return;
    detail = await context.detailOf(cardAsRead(card, fresh));
    opportunity = fresh;
  };

  // Redrawing keeps the keyboard user's place (a ticked box keeps the focus through its command).
  const redraw = focusKeeper(dialog);
  const render = () => {
    if (!dialog.contains(body)) return; // another deal's panel has taken the dialog since
    title.textContent = opportunity.title;
    redraw(() => body.replaceChildren(fields(opportunity, detail.definition, context, () => context.edit(opportunity)), criteria(), moves(), timelineSection));
  };

  const criteria = (): Node | string => {
    if (opportunity.status !== 'open') return '';
    const total = opportunity.exitCriteria.length;
    const met = opportunity.exitCriteria.filter((criterion) => criterion.met).length;
    const stageName = opportunity.stageName ?? opportunity.stage;
    if (total === 0) return h('section', { class: 'panel-section' }, h('h3', {}, 'To leave ', h('bdi', {}, stageName)), h('p', { class: 'hint' }, 'This stage has no exit criteria.'));
    const items = opportunity.exitCriteria.map((criterion) => {
      const box = h('input', { type: 'checkbox', id: `panel-criterion-${criterion.id}`, name: criterion.id, checked: criterion.met, disabled: busy || !context.canWrite });
      const note = h('input', { type: 'text', id: `panel-note-${criterion.id}`, class: 'criterion-note', dir: 'auto', placeholder: 'Evidence note (optional)', 'aria-label': `Evidence note for ${quotedTitle(criterion.description)}`, disabled: busy || !context.canWrite });
      note.value = notes.get(criterion.id) ?? '';
      note.addEventListener('input', () => notes.set(criterion.id, note.value));
      box.addEventListener('change', () => void setCriterion(criterion.id, criterion.description, box.checked, note.value.trim()));
      return h(
        'li',
        { 'data-criterion': criterion.id },
        box,
        h('div', {}, h('label', { for: box.id }, criterion.description), context.canWrite ? note : null),
      );
    });
    return h(
      'section',
      { class: 'panel-section' },
      h('h3', {}, 'To leave ', h('bdi', {}, stageName), ' ', h('span', { class: 'progress', 'data-figure': 'panel-progress' }, `${met}/${total} met`)),
      h('ul', { class: 'criteria' }, ...items),
    );
  };

  const moves = (): Node | string => {
    if (!context.canWrite) return '';
    // From where the deal is now (read just now), not where the board last drew its card.
    const current = cardAsRead(card, opportunity);
    const targets = allowedTargets(moveChoices(context.columns, current, detail));
    const buttons = targets.map((target) => {
      const button = h('button', { type: 'button', class: `panel-move panel-move--${target.kind}`, 'data-target': target.kind === 'stage' ? target.stageId : target.kind }, target.name);
      button.addEventListener('click', () => {
        dialog.close();
        context.move(current, target, opportunity.revision);
      });
      return button;
    });
    return h('section', { class: 'panel-section' }, h('h3', {}, opportunity.status === 'open' ? 'Move to' : 'Reopen in'), h('div', { class: 'panel-moves' }, ...buttons));
  };

  const timelineSection = h('section', { class: 'panel-section' }, h('h3', {}, 'Timeline'), h('p', {}, 'Loading…'));
  const loadTimeline = async () => {
    if (lost()) return;
    if (!context.canReadHistory) {
      timelineSection.replaceChildren(h('h3', {}, 'Timeline'), h('p', { class: 'hint' }, 'This key may not read the timeline.'));
      return;
    }
    try {
      // The latest events only: a deal's history may run to thousands (the API pages it).
      const from = Math.max(0, opportunity.revision + 1 - TIMELINE_EVENTS);
      const history = await api.get<HistoryAnswer>(`/opportunities/${card.id}/history?fromRevision=${from}&limit=${TIMELINE_EVENTS}`);
      const rows = timelineEntries(history, detail.definition, opportunity.currency).map((entry) =>
        h(
          'tr',
          { 'data-revision': entry.revision },
          h('td', {}, h('time', { datetime: entry.when }, formatInstant(entry.when))),
          h('td', {}, entry.who),
          h('td', {}, entry.what, entry.note ? h('div', { class: 'note', dir: 'auto' }, entry.note) : null),
        ),
      );
      timelineSection.replaceChildren(
        h('h3', {}, 'Timeline'),
        h('table', { class: 'timeline-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'What'))), h('tbody', {}, ...rows)),
        from > 0 ? h('p', { class: 'hint', 'data-figure': 'timeline-older' }, `The latest ${TIMELINE_EVENTS} events; ${from} older ones are in the full history (GET /opportunities/${card.id}/history).`) : '',
      );
    } catch (error) {
      timelineSection.replaceChildren(h('h3', {}, 'Timeline'), h('p', { class: 'panel-message', 'data-tone': 'error' }, describe(error)));
    }
  };

  const reload = async () => {
    await read();
    render();
  };

  /** A tick sent again after no answer goes under the key it went under: recorded once, and said as done. */
  const tick = resending();
  const setCriterion = async (criterionId: string, description: string, met: boolean, note: string) => {
    if (busy) return;
    busy = true;
    say('');
    render();
    const body = { criterionId, met, ...(note ? { note } : {}), expectedRevision: opportunity.revision };
    const recorded = async (position: number) => {
      notes.delete(criterionId); // recorded with the tick
      context.wrote(position);
      await Promise.all([reload(), loadTimeline()]);
      say(`${met ? 'Met' : 'No longer met'}: ${isolated(description)}`);
    };
    try {
      const answer = await tick(body, (key) => api.command(`/opportunities/${card.id}/criteria`, body, key));
      await recorded(answer.position);
    } catch (error) {
      const reread = await reload().then(
        () => true,
        () => false,
      );
      // No answer, but the deal as read again is one event on, with this tick: it was recorded, its answer lost on the way back.
      const lostAnswer = reread && outcomeUnknown(error) && opportunity.revision === body.expectedRevision + 1 && opportunity.exitCriteria.some((criterion) => criterion.id === criterionId && criterion.met === met);
      if (lostAnswer) await recorded(opportunity.position).catch(() => undefined);
      else if (error instanceof ApiError && error.status === 409) say('Someone else changed this deal meanwhile; it was reloaded. Tick the box again if needed.', 'error');
      else say(describe(error), 'error');
    } finally {
      busy = false;
      if (dialog.open) render();
    }
  };

  function describe(error: unknown): string {
    if (error instanceof ApiError && isGone(error.problem)) {
      context.gone();
      return goneText(card.title, context.limitedToTeams);
    }
    return error instanceof ApiError ? inWords(error.problem.detail ?? error.problem.code, detail.definition) : String(error);
  }

  if (lost()) return;
  try {
    await read();
    if (lost()) return;
    render();
    void loadTimeline().then(() => dialog.open && render());
  } catch (error) {
    body.replaceChildren(h('p', { class: 'panel-message', 'data-tone': 'error' }, describe(error)));
  }
  close.focus();
}

function fields(opportunity: OpportunityView, definition: ProcessDetail['definition'], context: SidePanelContext, edit: () => void): HTMLElement {
  const row = (label: string, value: string, key: string) => h('div', {}, h('dt', {}, label), h('dd', { 'data-field': key }, value));
  const status = `${opportunity.status === 'open' ? 'Open' : opportunity.status === 'won' ? 'Won' : 'Lost'} in ${isolated(opportunity.stageName ?? opportunity.stage)}`;
  // A won or lost deal takes no edit (the API answers "reopen it before changing it"): not offered.
  const editButton = context.canWrite && opportunity.status === 'open' ? h('button', { type: 'button', class: 'edit-deal' }, 'Edit') : null;
  editButton?.addEventListener('click', edit);
  return h(
    'section',
    { class: 'panel-section' },
    h(
      'dl',
      { class: 'deal-fields' },
      row('Status', status, 'status'),
      row('Amount', opportunity.amount === null ? '–' : formatDealAmount(opportunity.amount, opportunity.currency), 'amount'),
      row('Owner', opportunity.ownerId ?? 'unassigned', 'owner'),
      row('Team', opportunity.teamId ?? 'none', 'team'),
      expectedClose(opportunity),
      row('Opened', formatDate(opportunity.openedAt), 'openedAt'),
      // What was written on its closing, the next steps in full (its card cuts them to a line).
      opportunity.status === 'won' && opportunity.wonReason ? row('Won reason', opportunity.wonReason, 'wonReason') : null,
      opportunity.lostReason ? row('Lost reason', opportunity.lostReason, 'lostReason') : null,
      opportunity.status !== 'open' && opportunity.nextSteps ? h('div', {}, h('dt', {}, 'Next steps'), h('dd', { 'data-field': 'nextSteps', dir: 'auto', class: 'panel-next-steps' }, opportunity.nextSteps)) : null,
      row('Process', definition.name, 'process'),
    ),
    editButton,
  );
}

/** The expected close date as the card writes it, marked overdue as the card is when the deal is open and the day has passed (the rep's today). */
function expectedClose(opportunity: OpportunityView): HTMLElement {
  const day = opportunity.expectedCloseDate;
  const late = opportunity.status === 'open' && overdue(day, localDay(new Date()));
  return h(
    'div',
    {},
    h('dt', {}, 'Expected close'),
    h(
      'dd',
      { 'data-field': 'expectedCloseDate' },
      day ? h('time', { datetime: day }, formatCalendarDay(day)) : 'not set',
      late ? overdueMark() : null,
    ),
  );
}
