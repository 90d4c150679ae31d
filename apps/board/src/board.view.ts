import type { BoardCard, BoardColumn, MoveTarget } from './board.model';
import { h } from './dom';
import { formatCalendarDay, formatDate, formatDays, isolated, quotedTitle } from './format';
import { allowedTargets, type MoveChoice } from './moves.model';
import { closeMoveMenu, openMoveMenu } from './move-menu';

export interface BoardActions {
  /** A card was dropped on, or picked in "Move to…" (a closed one: "Reopen in…") for, another column. */
  move(card: BoardCard, target: MoveTarget): void;
  /** A drop on a column the process forbids for this card: say why. */
  refuse(card: BoardCard, choice: MoveChoice): void;
  openPanel(card: BoardCard): void;
  /** Where the card may go, as the process's move table says. */
  choices(card: BoardCard): MoveChoice[];
  /** The key may move cards (writer); otherwise no drag, no move buttons. */
  readonly canMove: boolean;
  /** A capped column's cards beyond those listed are asked for; undefined when the board lists the API's most already. */
  readonly showMore?: ((columnKey: string) => void) | undefined;
}

/** A column as drawn: the board's, after search and filters (how many of its cards they hide). */
export type ShownColumn = BoardColumn & { readonly hidden?: number };

const CARD_TYPE = 'application/x-stagecraft-opportunity';

/** Draws the columns; dragging a card onto another column (HTML5 drag and drop) asks to move it. */
export function renderBoard(container: HTMLElement, columns: readonly ShownColumn[], actions: BoardActions, currentStage = ''): void {
  closeMoveMenu();
  const cardsById = new Map(columns.flatMap((column) => column.cards.map((card) => [card.id, card] as const)));

  const columnElements = columns.map((column, index) => {
    const headingId = `column-${column.key}-heading`;
    const list = h('ol', { class: 'cards', 'aria-labelledby': headingId }, ...column.cards.map((card) => h('li', {}, cardElement(card, actions))));
    const current = currentStage ? column.key === currentStage : index === 0;
    const element = h(
      'section',
      { class: `column column--${column.target.kind}`, 'data-column': column.key, 'aria-labelledby': headingId, 'data-current': current ? 'true' : 'false' },
      h(
        'header',
        { class: 'column-header' },
        // The name in a bdi: a right-to-left stage name does not take the probability after it into its order (the column's label).
        h('h2', { id: headingId }, h('bdi', {}, column.name), column.probability === null ? null : h('span', { class: 'probability', title: 'Probability of winning from this stage' }, ` ${column.probability}%`)),
        h(
          'dl',
          { class: 'figures' },
          h('div', {}, h('dt', {}, 'Count'), h('dd', { 'data-figure': 'count' }, String(column.count))),
          column.amount === '' ? null : h('div', {}, h('dt', {}, column.target.kind === 'won' ? 'Won' : 'Amount'), h('dd', { 'data-figure': 'amount' }, column.amount)),
          column.weightedAmount === null ? null : h('div', {}, h('dt', {}, 'Weighted'), h('dd', { 'data-figure': 'weighted' }, column.weightedAmount)),
          // Labelled as converted, with the rates used: never mistaken for a sum of the currencies above.
          column.converted === null ? null : h('div', {}, h('dt', {}, 'Converted'), h('dd', { 'data-figure': 'converted', title: column.converted.rates }, column.converted.text)),
          column.rotting === 0 ? null : h('div', {}, h('dt', {}, 'Rotting'), h('dd', { 'data-figure': 'rotting-count', title: 'Open deals longer in this stage than its rotAfterDays' }, String(column.rotting))),
        ),
      ),
      column.cards.length === 0 && !column.hidden && column.target.kind === 'stage' ? h('p', { class: 'empty' }, 'No open opportunity') : null,
      column.hidden ? h('p', { class: 'filtered-out', 'data-figure': 'hidden' }, `${column.hidden} hidden by the search or filters`) : null,
      column.caption === null ? null : h('p', { class: 'outcome-period', 'data-figure': 'period' }, column.caption),
      column.target.kind === 'stage' || !actions.canMove ? null : h('p', { class: 'outcome-hint' }, column.target.kind === 'won' ? 'Drop a card here to win it' : 'Drop a card here to lose it (with a reason)'),
      h('p', { class: 'drop-refusal', 'aria-hidden': 'true' }),
      list,
      // Header totals are the whole column's; this says the list is its first cards only.
      column.more === null ? null : h('p', { class: 'more-cards', 'data-figure': 'more' }, column.more),
      column.capped && actions.showMore ? showMoreButton(column, actions.showMore) : null,
    );

    const choiceFor = (card: BoardCard) => actions.choices(card).find((choice) => choice.target === column.target || (choice.target.kind === column.target.kind && targetKey(choice.target) === column.key));
    element.addEventListener('dragover', (event) => {
      if (!dragged || dragged.stageId === column.key || !event.dataTransfer?.types.includes(CARD_TYPE)) return;
      // Forbidden columns take the drop too, so that it can be refused with the reason.
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      element.classList.add('drop-target');
    });
    element.addEventListener('dragleave', (event) => {
      if (!element.contains(event.relatedTarget as Node | null)) element.classList.remove('drop-target');
    });
    element.addEventListener('drop', (event) => {
      event.preventDefault();
      element.classList.remove('drop-target');
      const card = cardsById.get(event.dataTransfer?.getData(CARD_TYPE) ?? '');
      if (!card || card.stageId === column.key) return;
      const choice = choiceFor(card);
      if (!choice) return;
      if (choice.allowed) actions.move(card, column.target);
      else actions.refuse(card, choice);
    });
    return element;
  });

  container.replaceChildren(...columnElements);
}

function showMoreButton(column: BoardColumn, showMore: (columnKey: string) => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'show-more', 'aria-label': `Show more cards of ${isolated(column.name)}` }, 'Show more');
  button.addEventListener('click', () => showMore(column.key));
  return button;
}

/** The mark of an open deal whose expected close day has passed: the same on its card and in its panel. */
export function overdueMark(): HTMLElement {
  return h('span', { class: 'overdue-mark', 'data-figure': 'overdue', title: 'The expected close date has passed' }, 'Overdue');
}

/**
 * Gives the focus back to a card drawn anew (`part`: its title or its "⋯"), or, when it is no longer
 * on the board (moved to a team the key does not see, hidden by a filter), to the card now at its
 * place in its column, else to the column itself: a keyboard user's place is never the page itself.
 */
export function focusCard(container: HTMLElement, cardId: string, part: string | null, near: { readonly column: string; readonly index: number } | null): void {
  const again = container.querySelector<HTMLElement>(`[data-opportunity-id="${CSS.escape(cardId)}"]`);
  if (again) {
    ((part ? again.querySelector<HTMLElement>(part) : null) ?? again).focus();
    return;
  }
  const column = near === null ? null : container.querySelector<HTMLElement>(`[data-column="${CSS.escape(near.column)}"]`);
  if (!column || near === null) return;
  const cards = column.querySelectorAll<HTMLElement>('[data-opportunity-id]');
  const instead = cards[Math.min(Math.max(near.index, 0), cards.length - 1)];
  if (instead) {
    (instead.querySelector<HTMLElement>(part ?? '.card-title') ?? instead).focus();
    return;
  }
  column.tabIndex = -1;
  column.focus();
}

/**
 * The card whose "Move to…" menu the rep is in, and the item they are on; null when none is. Every
 * redraw makes the cards anew (and closed the menu): a load the rep did not ask for then (another
 * card's move answered, signed in again) took the menu from under their keys.
 */
export function openMenuPlace(): { readonly cardId: string; readonly target: string } | null {
  const menu = document.querySelector<HTMLElement>('#columns .move-menu');
  const cardId = menu?.closest<HTMLElement>('[data-opportunity-id]')?.dataset.opportunityId;
  const active = document.activeElement;
  if (!menu || cardId === undefined || !(active instanceof HTMLElement) || !menu.contains(active) || active.dataset.target === undefined) return null;
  return { cardId, target: active.dataset.target };
}

/**
 * Opens the menu again on the card drawn anew, on the same item. A card moved meanwhile (by someone
 * else) may no longer offer it: its menu open on its first item made an Enter send a move the rep
 * never chose (back to the stage it came from). Then the menu stays closed, the focus on its button.
 */
export function reopenMoveMenu(container: HTMLElement, place: { readonly cardId: string; readonly target: string }): void {
  const button = container.querySelector<HTMLButtonElement>(`[data-opportunity-id="${CSS.escape(place.cardId)}"] .move-button`);
  if (!button) return;
  button.click();
  const item = container.querySelector<HTMLElement>(`.move-menu [data-target="${CSS.escape(place.target)}"]`);
  if (item) item.focus();
  else closeMoveMenu(true);
}

/** Where a card is drawn: its column and its place in it (for focusCard), or null when it is not drawn. */
export function placeOf(container: HTMLElement, cardId: string): { column: string; index: number } | null {
  const card = container.querySelector<HTMLElement>(`[data-opportunity-id="${CSS.escape(cardId)}"]`);
  const column = card?.closest<HTMLElement>('[data-column]');
  if (!card || !column) return null;
  return { column: column.dataset.column!, index: Array.from(column.querySelectorAll('[data-opportunity-id]')).indexOf(card) };
}

const targetKey = (target: MoveTarget): string => (target.kind === 'stage' ? target.stageId : target.kind);

// The card being dragged, between its dragstart and dragend.
let dragged: BoardCard | null = null;

/** While a card is dragged, every other column says whether it takes it, and a forbidden one why not. */
function startDrag(card: BoardCard, element: HTMLElement, event: DragEvent, actions: BoardActions): void {
  if (!event.dataTransfer) return;
  dragged = card;
  event.dataTransfer.setData(CARD_TYPE, card.id);
  event.dataTransfer.effectAllowed = 'move';
  element.classList.add('dragging');
  const choices = new Map(actions.choices(card).map((choice) => [targetKey(choice.target), choice]));
  for (const column of document.querySelectorAll<HTMLElement>('[data-column]')) {
    const choice = choices.get(column.dataset.column ?? '');
    column.dataset.drop = choice ? (choice.allowed ? 'allowed' : 'forbidden') : 'source';
    const refusal = column.querySelector('.drop-refusal');
    if (refusal) refusal.textContent = choice && !choice.allowed ? (choice.reason ?? 'Not allowed') : '';
  }
}

function endDrag(element: HTMLElement): void {
  dragged = null;
  element.classList.remove('dragging');
  for (const column of document.querySelectorAll<HTMLElement>('[data-column]')) {
    column.classList.remove('drop-target');
    delete column.dataset.drop;
  }
}

function cardElement(card: BoardCard, actions: BoardActions): HTMLElement {
  const open = card.status === 'open';
  // dir=auto: a right-to-left title runs, and is cut short, from the right, so its first words show.
  const titleButton = h('button', { type: 'button', class: 'card-title', dir: 'auto', title: `${isolated(card.title)}: open the deal` }, card.title);
  titleButton.addEventListener('click', () => actions.openPanel(card));
  let moveButton: HTMLButtonElement | null = null;
  if (actions.canMove) {
    const button = h(
      'button',
      // A narrow "⋯" leaves the card's width to its title; the label and tooltip say what it does.
      { type: 'button', class: 'move-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': open ? `Move ${quotedTitle(card.title)} to…` : `Reopen ${quotedTitle(card.title)} in…`, title: open ? 'Move to…' : 'Reopen in…' },
      '⋯',
    );
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      if (button.getAttribute('aria-expanded') === 'true') closeMoveMenu(true);
      else openMoveMenu(button, allowedTargets(actions.choices(card)), (target) => actions.move(card, target));
    });
    moveButton = button;
  }
  // Said with the title to a screen reader, as the marks show it to the eye.
  const marks = [card.rotting ? 'rotting' : null, card.overdue ? 'overdue' : null].filter((mark) => mark !== null);
  const element = h(
    'article',
    { class: `card card--${card.status}${card.rotting ? ' card--rotting' : ''}`, draggable: actions.canMove ? 'true' : 'false', 'data-opportunity-id': card.id, 'aria-label': marks.length > 0 ? `${isolated(card.title)} (${marks.join(', ')})` : card.title },
    h('h3', {}, titleButton),
    h(
      'dl',
      { class: 'card-facts' },
      // First among the facts rather than a line of its own: the card stays one line shorter.
      card.rotting ? h('div', {}, h('dt', {}, 'Status'), h('dd', { class: 'rotting-mark', 'data-figure': 'rotting', title: "Longer in this stage than the stage's rotAfterDays" }, 'Rotting')) : null,
      h('div', {}, h('dt', {}, 'Owner'), h('dd', {}, card.owner)),
      h('div', {}, h('dt', {}, 'Amount'), h('dd', {}, card.amount)),
      card.daysInStage === null ? null : h('div', {}, h('dt', {}, 'In stage'), h('dd', { 'data-figure': 'days' }, formatDays(card.daysInStage))),
      // A calendar day, written as the panel and the timeline write it ("31 Dec 2026"), never shifted by a zone.
      card.expectedCloseDate === null
        ? null
        : h(
            'div',
            {},
            h('dt', {}, 'Expected close'),
            h(
              'dd',
              {},
              h('time', { 'data-figure': 'expected-close', datetime: card.expectedCloseDate }, formatCalendarDay(card.expectedCloseDate)),
              // Past and still open: the date needs moving, or the deal closing.
              card.overdue ? overdueMark() : null,
            ),
          ),
      // "met/total" of its current stage, as the pipeline answer carries it: drawn with the card (no
      // read per card, and no search of the whole board per card after each redraw).
      open && card.criteria !== null && card.criteria.total > 0
        ? h(
            'div',
            { class: `criteria-progress${card.criteria.met === card.criteria.total ? ' criteria-progress--done' : ''}` },
            h('dt', {}, 'Criteria'),
            h('dd', { 'data-figure': 'criteria' }, `${card.criteria.met}/${card.criteria.total}`),
          )
        : null,
      card.closedAt === null
        ? null
        : h('div', {}, h('dt', {}, card.status === 'won' ? 'Won' : 'Lost'), h('dd', {}, h('time', { 'data-figure': 'closed', datetime: card.closedAt }, formatDate(card.closedAt)))),
      card.lostReason === null ? null : h('div', {}, h('dt', {}, 'Reason'), h('dd', { 'data-figure': 'reason' }, card.lostReason)),
      card.nextSteps === null ? null : h('div', {}, h('dt', {}, 'Next steps'), h('dd', { class: 'next-steps', 'data-figure': 'next-steps', dir: 'auto', title: card.nextSteps }, card.nextSteps)),
    ),
    moveButton,
  );
  if (actions.canMove) {
    element.addEventListener('dragstart', (event) => startDrag(card, element, event, actions));
    element.addEventListener('dragend', () => endDrag(element));
  }
  return element;
}

