import { ApiError, newIdempotencyKey, outcomeUnknown, type ApiClient } from './api.client';
import type { CommandAnswer, OpportunityView } from '@stagecraft/contracts';
import { byId, h } from './dom';
import { amountProblem, dealBody, FIELDS, type Field } from './deal-form.model';
import { inWords } from './moves.model';
import type { ProcessDetail } from '@stagecraft/contracts';

// "New deal" and "Edit": one form, sent as POST /opportunities or PATCH /opportunities/:id. The
// browser's own checks are off (novalidate): the API judges every field, and its messages are shown
// beside the field they are about, so the rules live in one place.

export interface DealFormOptions {
  readonly definition: ProcessDetail['definition'];
  /** The teams this key may put a deal in (a team-limited key: only its own). */
  readonly teams: readonly string[];
  readonly defaultTeam: string;
  /** Editing this deal; absent: a new one. */
  readonly opportunity?: OpportunityView;
}


/** Refusals that are about one field, by their stable code. */
const FIELD_OF_CODE: Readonly<Record<string, Field>> = {
  'OPPORTUNITY.UNKNOWN_TEAM': 'teamId',
  'AUTH.TEAM_FORBIDDEN': 'teamId',
  'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE': 'expectedCloseDate',
};

/** Resolves with the command's answer once saved, or null when cancelled. */
export function openDealForm(api: ApiClient, options: DealFormOptions): Promise<CommandAnswer | null> {
  const dialog = byId<HTMLDialogElement>('deal-form');
  const existing = options.opportunity;
  const inputs: Record<Field, HTMLInputElement | HTMLSelectElement> = {
    title: h('input', { id: 'deal-title', name: 'title', type: 'text', value: existing?.title ?? '', autocomplete: 'off' }),
    amount: h('input', { id: 'deal-amount', name: 'amount', type: 'text', inputmode: 'decimal', value: existing?.amount ?? '' }),
    currency: h('input', { id: 'deal-currency', name: 'currency', type: 'text', value: existing?.currency ?? '', placeholder: 'EUR', maxlength: 3, autocomplete: 'off' }),
    ownerId: h('input', { id: 'deal-ownerId', name: 'ownerId', type: 'text', value: existing?.ownerId ?? '', autocomplete: 'off' }),
    teamId: h(
      'select',
      { id: 'deal-teamId', name: 'teamId' },
      // One team to choose from (a team-limited key): it is the answer, no blank to pick.
      ...(options.teams.length === 1 ? [] : [h('option', { value: '' }, options.teams.length === 0 ? 'No team' : 'Choose a team…')]),
      ...options.teams.map((team) => h('option', { value: team }, team)),
    ),
    expectedCloseDate: h('input', { id: 'deal-expectedCloseDate', name: 'expectedCloseDate', type: 'date', value: existing?.expectedCloseDate ?? '' }),
  };
  (inputs.teamId as HTMLSelectElement).value = existing?.teamId ?? options.defaultTeam;
  const labels: Record<Field, string> = { title: 'Title', amount: 'Amount', currency: 'Currency', ownerId: 'Owner', teamId: 'Team', expectedCloseDate: 'Expected close date' };
  const errors = Object.fromEntries(FIELDS.map((field) => [field, h('p', { class: 'field-error', id: `deal-${field}-error` })])) as unknown as Record<Field, HTMLElement>;
  const general = h('p', { class: 'panel-message', 'data-tone': 'error', role: 'alert' });
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const save = h('button', { type: 'submit', class: 'primary' }, existing ? 'Save changes' : 'Create deal');
  const form = h(
    'form',
    { class: 'deal-form', novalidate: true },
    h('h2', { id: 'deal-form-title' }, existing ? `Edit “${existing.title}”` : `New deal in ${options.definition.name}`),
    h(
      'div',
      { class: 'form-grid' },
      ...FIELDS.map((field) => {
        inputs[field].setAttribute('aria-describedby', errors[field].id);
        return h('div', { class: `form-field form-field--${field}` }, h('label', { for: inputs[field].id }, labels[field]), inputs[field], errors[field]);
      }),
    ),
    general,
    h('div', { class: 'panel-actions' }, cancel, save),
  );
  dialog.replaceChildren(form);

  const clearErrors = () => {
    for (const field of FIELDS) {
      errors[field].textContent = '';
      inputs[field].removeAttribute('aria-invalid');
    }
    general.textContent = '';
  };
  const show = (error: ApiError) => {
    const byField = new Map<Field, string[]>();
    for (const entry of error.problem.errors ?? []) {
      const field = FIELDS.find((candidate) => candidate === entry.field);
      if (field) byField.set(field, [...(byField.get(field) ?? []), entry.message]);
    }
    const codeField = FIELD_OF_CODE[error.problem.code];
    if (codeField && byField.size === 0) byField.set(codeField, [inWords(error.problem.detail ?? error.problem.code, options.definition)]);
    for (const [field, messages] of byField) {
      errors[field].textContent = messages.join('; ');
      inputs[field].setAttribute('aria-invalid', 'true');
    }
    if (byField.size === 0) general.textContent = inWords(error.problem.detail ?? error.problem.code, options.definition);
    // The first field in trouble gets the focus, so the message is read out with it.
    FIELDS.map((field) => inputs[field]).find((input) => input.getAttribute('aria-invalid') === 'true')?.focus();
  };

  return new Promise((resolve) => {
    let saved: CommandAnswer | null = null;
    /** An ambiguous amount the rep was asked about: saved again unchanged, it is what they meant. */
    let confirmedAmount: string | undefined;
    /** The deal as the form compares and sends against: reread after someone else changed it (409). */
    let base = existing;
    /** A save whose outcome is unknown (no answer, a 5xx): sent again as it stands, it goes under the same key, so it is recorded once. */
    let unanswered: { readonly request: string; readonly key: string } | undefined;
    /** The save under way: closing the form meanwhile (Escape, Cancel) waits for its answer, so a deal saved is never saved silently. */
    let saving: Promise<void> | null = null;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => void (saving ?? Promise.resolve()).then(() => resolve(saved)), { once: true });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors();
      const unclear = amountProblem(inputs.amount.value);
      // An ambiguous amount saved again as it stands is confirmed: taken as written (a dot for decimals).
      if (unclear && !(unclear.kind === 'ambiguous' && confirmedAmount === inputs.amount.value.trim())) {
        confirmedAmount = unclear.kind === 'ambiguous' ? inputs.amount.value.trim() : undefined;
        errors.amount.textContent = unclear.message;
        inputs.amount.setAttribute('aria-invalid', 'true');
        inputs.amount.focus();
        return;
      }
      save.disabled = true;
      const body = dealBody(Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>, base);
      if (base && Object.keys(body).length === 0) {
        dialog.close(); // nothing changed: nothing to record
        return;
      }
      const sent = base ? { ...body, expectedRevision: base.revision } : { ...body, processId: options.definition.id };
      const request = JSON.stringify(sent);
      const key = unanswered?.request === request ? unanswered.key : newIdempotencyKey();
      const editing = base;
      saving = (editing ? api.patch(`/opportunities/${editing.id}`, sent, key) : api.command('/opportunities', sent, key))
        .then((answer) => {
          unanswered = undefined;
          saved = answer;
          dialog.close();
        })
        .catch(async (error: unknown) => {
          unanswered = outcomeUnknown(error) ? { request, key } : undefined;
          if (editing && error instanceof ApiError && error.status === 409) {
            // What the rep typed stays; the form now compares with, and sends against, the deal as it is.
            const fresh = await api.get<OpportunityView>(`/opportunities/${editing.id}`).catch(() => null);
            if (fresh === null) {
              general.textContent = 'Someone else changed this deal meanwhile, and it could not be read again; close this form and open it again.';
              return;
            }
            // The fields the rep changed keep what was typed; every other field takes the deal's value
            // as it is now, or saving again would send the old value back over the other person's change.
            const typed = Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>;
            const mine = new Set(Object.keys(dealBody(typed, editing)));
            const theirs = FIELDS.filter((field) => (fresh[field] ?? null) !== (editing[field] ?? null));
            for (const field of theirs) if (!mine.has(field)) inputs[field].value = fresh[field] === null || fresh[field] === undefined ? '' : String(fresh[field]);
            const both = theirs.filter((field) => mine.has(field)).map((field) => labels[field]);
            base = fresh;
            general.textContent =
              `Someone else changed this deal meanwhile${theirs.length ? ` (${theirs.map((field) => labels[field]).join(', ')})` : ''}; the form now shows their changes. ` +
              (both.length ? `You changed ${both.join(', ')} too: what you typed is kept there. ` : 'What you typed is kept. ') +
              'Check it and save again.';
          } else if (error instanceof ApiError) show(error);
          else general.textContent = String(error);
        })
        .finally(() => {
          saving = null;
          save.disabled = false;
        });
    });
    dialog.showModal();
    inputs.title.focus();
  });
}
