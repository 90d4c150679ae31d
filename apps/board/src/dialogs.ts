import type { BoardCard } from './board.model';
import { byId, h } from './dom';

/** How a deal closed, as the win or lose command takes it; a field left empty is undefined. */
export interface ClosingAnswer {
  /** One of the process's reasons: always for a loss, for a win when the process lists wonReasons. */
  readonly reason: string | undefined;
  /** Free text beside the reason. */
  readonly note: string | undefined;
  /** What happens next (the seed's last stage: "contract signed / not signed, next steps"). */
  readonly nextSteps: string | undefined;
}

/**
 * Closing a deal asks how it closed before anything is sent: a loss needs one of the process's
 * lost reasons, a win one of its won reasons when it lists them (none chosen in advance: a
 * preselected one gets sent unread), and both take an optional note and the next steps. Null when
 * the user cancels; `keep` is then given what was written (null: nothing), to offer it again.
 */
export function chooseClosing(card: BoardCard, kind: 'won' | 'lost', reasons: readonly string[], previous?: ClosingAnswer, keep?: (written: ClosingAnswer | null) => void): Promise<ClosingAnswer | null> {
  const dialog = byId<HTMLDialogElement>(kind === 'lost' ? 'lose-dialog' : 'win-dialog');
  const needsReason = kind === 'lost' || reasons.length > 0;
  const select = needsReason
    ? h(
        'select',
        { id: `${kind}-reason`, required: true, 'aria-describedby': `${kind}-reason-error` },
        h('option', { value: '', disabled: true, selected: true }, 'Choose a reason…'),
        ...reasons.map((reason) => h('option', { value: reason }, reason)),
      )
    : null;
  const note = h('textarea', { id: `${kind}-note`, dir: 'auto', rows: 2, maxlength: 1000, placeholder: kind === 'lost' ? 'What happened (optional)' : 'What made it (optional)' });
  const nextSteps = h('textarea', { id: `${kind}-next-steps`, dir: 'auto', rows: 2, maxlength: 2000, placeholder: kind === 'lost' ? 'e.g. call again in Q3 (optional)' : 'e.g. kick-off call on Monday (optional)' });
  const error = h('p', { id: `${kind}-reason-error`, class: 'field-error' });
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const confirm = h('button', { type: 'submit', class: 'primary' }, kind === 'lost' ? 'Mark as lost' : 'Mark as won');
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    // The title isolated (bdi): a right-to-left one keeps its own order without reordering the words around it.
    h('h2', {}, ...(kind === 'lost' ? ['Why was “', h('bdi', {}, card.title), '” lost?'] : ['“', h('bdi', {}, card.title), '” won'])),
    select ? h('div', { class: 'form-field' }, h('label', { for: `${kind}-reason` }, kind === 'lost' ? 'Lost reason' : 'Won reason'), select, error) : null,
    h('div', { class: 'form-field' }, h('label', { for: `${kind}-note` }, 'Note'), note),
    h('div', { class: 'form-field' }, h('label', { for: `${kind}-next-steps` }, 'Next steps'), nextSteps),
    h('div', { class: 'panel-actions' }, cancel, confirm),
  );
  dialog.replaceChildren(form);
  // What the rep wrote last time for this deal, when it could not be sent: not typed twice.
  if (previous) {
    if (select && previous.reason !== undefined && reasons.includes(previous.reason)) select.value = previous.reason;
    note.value = previous.note ?? '';
    nextSteps.value = previous.nextSteps ?? '';
  }
  const textOf = (field: HTMLTextAreaElement) => field.value.trim() || undefined;
  return new Promise((resolve) => {
    let chosen: ClosingAnswer | null = null;
    form.addEventListener('submit', (event) => {
      if (select && !select.value) {
        event.preventDefault();
        error.textContent = kind === 'lost' ? 'Choose why the deal was lost.' : 'Choose why the deal was won.';
        select.setAttribute('aria-invalid', 'true');
        select.focus();
        return;
      }
      chosen = { reason: select?.value || undefined, note: textOf(note), nextSteps: textOf(nextSteps) };
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener(
      'close',
      () => {
        // Closed unsent (an Escape by reflex, Cancel): what was written is kept for the next try, as after a failed send.
        if (chosen === null) {
          const written = { reason: select?.value || undefined, note: textOf(note), nextSteps: textOf(nextSteps) };
          keep?.(written.reason === undefined && written.note === undefined && written.nextSteps === undefined ? null : written);
        }
        resolve(chosen);
      },
      { once: true },
    );
    dialog.showModal();
    // The first field: a win with no reason to choose starts at its note, as the eye reads the form
    // (it started at the next steps, and what made the deal was typed there, under the wrong label).
    (select ?? note).focus();
  });
}
