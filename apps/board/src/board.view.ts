import { moveTargets, type BoardCard, type BoardColumn, type MoveTarget } from './board.model';
import { h } from './dom';
import { formatDate, formatDays } from './format';
import { closeMoveMenu, openMoveMenu } from './move-menu';

export interface BoardActions {
  /** A card was dropped on, or picked in "Move to…" (a closed one: "Reopen in…") for, another column. */
  move(card: BoardCard, target: MoveTarget): void;
  openTimeline(card: BoardCard): void;
}

const CARD_TYPE = 'application/x-stagecraft-opportunity';

/** Draws the columns; dragging a card onto another column (HTML5 drag and drop) asks to move it. */
export function renderBoard(container: HTMLElement, columns: readonly BoardColumn[], actions: BoardActions): void {
  closeMoveMenu();
  const cardsById = new Map(columns.flatMap((column) => column.cards.map((card) => [card.id, card] as const)));

  const columnElements = columns.map((column) => {
    const headingId = `column-${column.key}-heading`;
    const list = h('ol', { class: 'cards', 'aria-labelledby': headingId }, ...column.cards.map((card) => h('li', {}, cardElement(card, columns, actions))));
    const element = h(
      'section',
      { class: `column column--${column.target.kind}`, 'data-column': column.key, 'aria-labelledby': headingId },
      h(
        'header',
        { class: 'column-header' },
        h('h2', { id: headingId }, column.name, column.probability === null ? null : h('span', { class: 'probability', title: 'Probability of winning from this stage' }, ` ${column.probability}%`)),
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
      column.cards.length === 0 && column.target.kind === 'stage' ? h('p', { class: 'empty' }, 'No open opportunity') : null,
      column.caption === null ? null : h('p', { class: 'outcome-period', 'data-figure': 'period' }, column.caption),
      column.target.kind === 'stage' ? null : h('p', { class: 'outcome-hint' }, column.target.kind === 'won' ? 'Drop a card here to win it' : 'Drop a card here to lose it (with a reason)'),
      list,
      // Header totals are the whole column's; this says the list is its first cards only.
      column.more === null ? null : h('p', { class: 'more-cards', 'data-figure': 'more' }, column.more),
    );

    element.addEventListener('dragover', (event) => {
      if (!dragged || !accepts(column, dragged) || !event.dataTransfer?.types.includes(CARD_TYPE)) return;
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
      if (card && accepts(column, card)) actions.move(card, column.target);
    });
    return element;
  });

  container.replaceChildren(...columnElements);
}

/** Any other column takes an open card; a closed one goes only back to a stage (a reopening). */
function accepts(column: BoardColumn, card: BoardCard): boolean {
  return card.stageId !== column.key && (card.status === 'open' || column.target.kind === 'stage');
}

// The card being dragged, between its dragstart and dragend.
let dragged: BoardCard | null = null;

function startDrag(card: BoardCard, element: HTMLElement, event: DragEvent): void {
  if (!event.dataTransfer) return;
  dragged = card;
  event.dataTransfer.setData(CARD_TYPE, card.id);
  event.dataTransfer.effectAllowed = 'move';
  element.classList.add('dragging');
}

function endDrag(element: HTMLElement): void {
  dragged = null;
  element.classList.remove('dragging');
  for (const column of document.querySelectorAll('.drop-target')) column.classList.remove('drop-target');
}

function cardElement(card: BoardCard, columns: readonly BoardColumn[], actions: BoardActions): HTMLElement {
  const open = card.status === 'open';
  const moveButton = h(
    'button',
    { type: 'button', class: 'move-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': open ? `Move "${card.title}" to…` : `Reopen "${card.title}" in…` },
    open ? 'Move to…' : 'Reopen in…',
  );
  moveButton.addEventListener('click', (event) => {
    event.stopPropagation();
    if (moveButton.getAttribute('aria-expanded') === 'true') closeMoveMenu(true);
    else openMoveMenu(moveButton, moveTargets(columns, card), (target) => actions.move(card, target));
  });
  const titleButton = h('button', { type: 'button', class: 'card-title', title: 'Open the timeline' }, card.title);
  titleButton.addEventListener('click', () => actions.openTimeline(card));
  const element = h(
    'article',
    { class: `card card--${card.status}${card.rotting ? ' card--rotting' : ''}`, draggable: 'true', 'data-opportunity-id': card.id, 'aria-label': card.rotting ? `${card.title} (rotting)` : card.title },
    h('h3', {}, titleButton),
    card.rotting ? h('p', { class: 'rotting-mark', 'data-figure': 'rotting', title: "Longer in this stage than the stage's rotAfterDays" }, 'Rotting') : null,
    h(
      'dl',
      { class: 'card-facts' },
      h('div', {}, h('dt', {}, 'Owner'), h('dd', {}, card.owner)),
      h('div', {}, h('dt', {}, 'Amount'), h('dd', {}, card.amount)),
      card.daysInStage === null ? null : h('div', {}, h('dt', {}, 'In stage'), h('dd', { 'data-figure': 'days' }, formatDays(card.daysInStage))),
      card.expectedCloseDate === null ? null : h('div', {}, h('dt', {}, 'Expected close'), h('dd', { 'data-figure': 'expected-close' }, card.expectedCloseDate)),
      card.closedAt === null
        ? null
        : h('div', {}, h('dt', {}, card.status === 'won' ? 'Won' : 'Lost'), h('dd', {}, h('time', { 'data-figure': 'closed', datetime: card.closedAt }, formatDate(card.closedAt)))),
      card.lostReason === null ? null : h('div', {}, h('dt', {}, 'Reason'), h('dd', { 'data-figure': 'reason' }, card.lostReason)),
      card.nextSteps === null ? null : h('div', {}, h('dt', {}, 'Next steps'), h('dd', { 'data-figure': 'next-steps' }, card.nextSteps)),
    ),
    moveButton,
  );
  element.addEventListener('dragstart', (event) => startDrag(card, element, event));
  element.addEventListener('dragend', () => endDrag(element));
  return element;
}
