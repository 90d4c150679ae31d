import { ApiError, type ApiClient } from './api.client';
import type { HistoryAnswer, ProcessDetail } from '@stagecraft/contracts';
import type { BoardCard } from './board.model';
import { byId, h } from './dom';
import { formatInstant } from './format';
import { timelineEntries } from './timeline.model';

/** A card's history: who did what, when (GET /opportunities/:id/history). */
export async function openTimeline(api: ApiClient, card: BoardCard, definition: ProcessDetail['definition'] | null): Promise<void> {
  const dialog = byId<HTMLDialogElement>('timeline');
  const close = h('button', { type: 'button', class: 'dialog-close' }, 'Close');
  close.addEventListener('click', () => dialog.close());
  const body = h('div', { class: 'timeline-body' }, h('p', {}, 'Loading…'));
  dialog.replaceChildren(h('h2', { id: 'timeline-title' }, `Timeline of “${card.title}”`), body, h('div', { class: 'panel-actions' }, close));
  dialog.showModal();
  try {
    const history = await api.get<HistoryAnswer>(`/opportunities/${card.id}/history`);
    const rows = timelineEntries(history, definition).map((entry) =>
      h(
        'tr',
        { 'data-revision': entry.revision },
        h('td', {}, h('time', { datetime: entry.when }, formatInstant(entry.when))),
        h('td', {}, entry.who),
        h('td', {}, entry.what, entry.note ? h('div', { class: 'note' }, entry.note) : null),
      ),
    );
    body.replaceChildren(
      h('table', { class: 'timeline-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'What'))), h('tbody', {}, ...rows)),
    );
  } catch (error) {
    const text = error instanceof ApiError ? (error.status === 403 ? 'Your key may not read histories (it needs the auditor role).' : (error.problem.detail ?? error.problem.code)) : String(error);
    body.replaceChildren(h('p', { class: 'panel-message', 'data-tone': 'error' }, text));
  }
  close.focus();
}

/** Losing needs one of the process's reasons: ask which. Null when the user cancels. */
export function chooseLostReason(card: BoardCard, reasons: readonly string[]): Promise<string | null> {
  const dialog = byId<HTMLDialogElement>('lose-dialog');
  const select = h('select', { id: 'lost-reason', required: true }, ...reasons.map((reason) => h('option', { value: reason }, reason)));
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const confirm = h('button', { type: 'submit', class: 'primary' }, 'Mark as lost');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, `Why was “${card.title}” lost?`),
    h('p', {}, h('label', { for: 'lost-reason' }, 'Lost reason '), select),
    h('div', { class: 'panel-actions' }, cancel, confirm),
  );
  dialog.replaceChildren(form);
  return new Promise((resolve) => {
    let chosen: string | null = null;
    form.addEventListener('submit', () => {
      chosen = select.value;
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(chosen), { once: true });
    dialog.showModal();
    select.focus();
  });
}
