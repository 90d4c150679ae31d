import type { BoardCard } from './board.model';
import { byId, h } from './dom';

export interface LostAnswer {
  readonly reason: string;
  /** Free text beside the reason; undefined when none was written. */
  readonly note: string | undefined;
}

/**
 * Losing needs one of the process's reasons: ask which, with none chosen in advance (a preselected
 * one gets sent unread), and an optional note. Null when the user cancels.
 */
export function chooseLostReason(card: BoardCard, reasons: readonly string[]): Promise<LostAnswer | null> {
  const dialog = byId<HTMLDialogElement>('lose-dialog');
  const select = h(
    'select',
    { id: 'lost-reason', required: true, 'aria-describedby': 'lost-reason-error' },
    h('option', { value: '', disabled: true, selected: true }, 'Choose a reason…'),
    ...reasons.map((reason) => h('option', { value: reason }, reason)),
  );
  const note = h('textarea', { id: 'lost-note', rows: 2, maxlength: 1000, placeholder: 'What happened (optional)' });
  const error = h('p', { id: 'lost-reason-error', class: 'field-error' });
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const confirm = h('button', { type: 'submit', class: 'primary' }, 'Mark as lost');
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    h('h2', {}, `Why was “${card.title}” lost?`),
    h('div', { class: 'form-field' }, h('label', { for: 'lost-reason' }, 'Lost reason'), select, error),
    h('div', { class: 'form-field' }, h('label', { for: 'lost-note' }, 'Note'), note),
    h('div', { class: 'panel-actions' }, cancel, confirm),
  );
  dialog.replaceChildren(form);
  return new Promise((resolve) => {
    let chosen: LostAnswer | null = null;
    form.addEventListener('submit', (event) => {
      if (!select.value) {
        event.preventDefault();
        error.textContent = 'Choose why the deal was lost.';
        select.setAttribute('aria-invalid', 'true');
        select.focus();
        return;
      }
      chosen = { reason: select.value, note: note.value.trim() || undefined };
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(chosen), { once: true });
    dialog.showModal();
    select.focus();
  });
}
