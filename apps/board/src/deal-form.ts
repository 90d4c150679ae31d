import { ApiError, resending, type ApiClient } from './api.client';
import type { CommandAnswer, OpportunityView } from '@stagecraft/contracts';
import { announce, byId, h } from './dom';
import { quotedTitle } from './format';
import { amountProblem, dealBody, emptiedFields, FIELDS, type Field } from './deal-form.model';
import { closedMeanwhileText, inputValue, otherChange, otherChangeText, theirValueText } from './deal-form-changes.model';
import { CANNOT_EMPTY, FIELD_LABELS as labels, formRefusal, needCorrecting, unseenDealText } from './deal-form-messages.model';
import { inWords, isGone } from './moves.model';
import type { ProcessDetail } from '@stagecraft/contracts';

// "New deal" and "Edit": one form, sent as POST /opportunities or PATCH /opportunities/:id. The
// browser's own checks are off (novalidate): the API judges every field, so the rules live in one
// place, and what it refuses is said beside the field it is about in a rep's words, with a summary
// the form's alert announces (deal-form-messages.model.ts).

export interface DealFormOptions {
  readonly definition: ProcessDetail['definition'];
  /** The teams this key may put a deal in (a team-limited key: only its own). */
  readonly teams: readonly string[];
  readonly defaultTeam: string;
  /** Editing this deal; absent: a new one. */
  readonly opportunity?: OpportunityView;
  /** Whether the rep who opened the form is still signed in: a save failing after sign-out opens nothing again. */
  readonly current?: () => boolean;
  /** The key sees only some teams (goneText: a deal not found may have gone to another team). */
  readonly limitedToTeams?: boolean;
}

/**
 * The key signed in with, as an open form needs it: the teams it may choose, whether it sees only
 * some teams (goneText), and why it may not save at all (formReadOnlyReason; null: it may).
 */
export interface FormScope {
  readonly teamsOf: (definition: ProcessDetail['definition']) => readonly string[];
  readonly limitedToTeams: boolean;
  readonly readOnly: (editing: boolean) => string | null;
}

/**
 * What was typed in a form closed unsaved (an Escape pressed by reflex, Cancel), by form: a new
 * deal of a process, an edit of a deal. Only the fields the rep changed (`typed`), with what each
 * showed when they typed over it (`over`): an edit opened again after someone else changed one of
 * them says so, as a save refused for it (409) does. Offered again when that form opens, until
 * saved or the rep starts over. Forgotten on signing out (forgetDrafts).
 */
interface Draft {
  readonly typed: Partial<Record<Field, string>>;
  readonly over: Partial<Record<Field, string>>;
}
const drafts = new Map<string, Draft>();

export function forgetDrafts(): void {
  drafts.clear();
}

/** The open form, taking another key's scope (rescopeForm); null while no form is open. */
let rescopeHere: ((scope: FormScope) => void) | null = null;

/**
 * Signed in again, over an open form, with a key of other roles or teams (main.ts rescope): the
 * form offers that key's teams, of the process it was opened on, and none the last key's only; a
 * deal it does not find is said as that key is told (goneText); and a read-only key is offered no
 * save, and told why. The form kept the last key's until closed: the rep could pick a team the new
 * key may not use, was told a deal not found had been deleted, or saved only to be refused (403).
 */
export function rescopeForm(scope: FormScope): void {
  rescopeHere?.(scope);
}

/** The open Edit form, reading its deal again for the key signed in (recheckForm); null while none is open. */
let recheckHere: (() => void) | null = null;

/**
 * Asks whether the key signed in still sees the deal an open Edit form is about (main.ts: at each
 * look of the live refresh, which draws nothing under a form): one that moved to a team the key
 * does not see, or was deleted, was said only when the rep pressed Save, after typing it all.
 */
export function recheckForm(): void {
  recheckHere?.();
}

/** One team to choose from (a team-limited key): it is the answer, no blank to pick. */
function teamOptions(teams: readonly string[]): HTMLOptionElement[] {
  return [...(teams.length === 1 ? [] : [h('option', { value: '' }, teams.length === 0 ? 'No team' : 'Choose a team…')]), ...teams.map((team) => h('option', { value: team }, team))];
}

/** A deal saved: the command's answer, and the title it was saved under (renamed, the board says and shows the new one). */
export type DealSaved = CommandAnswer & { readonly title: string };

/** Resolves with the command's answer once saved, or null when cancelled. */
export function openDealForm(api: ApiClient, options: DealFormOptions): Promise<DealSaved | null> {
  const dialog = byId<HTMLDialogElement>('deal-form');
  const existing = options.opportunity;
  const inputs: Record<Field, HTMLInputElement | HTMLSelectElement> = {
    title: h('input', { id: 'deal-title', name: 'title', type: 'text', dir: 'auto', value: existing?.title ?? '', autocomplete: 'off' }),
    amount: h('input', { id: 'deal-amount', name: 'amount', type: 'text', inputmode: 'decimal', value: existing?.amount ?? '' }),
    currency: h('input', { id: 'deal-currency', name: 'currency', type: 'text', value: existing?.currency ?? '', placeholder: 'EUR', maxlength: 3, autocomplete: 'off' }),
    ownerId: h('input', { id: 'deal-ownerId', name: 'ownerId', type: 'text', value: existing?.ownerId ?? '', autocomplete: 'off' }),
    teamId: h('select', { id: 'deal-teamId', name: 'teamId' }, ...teamOptions(options.teams)),
    expectedCloseDate: h('input', { id: 'deal-expectedCloseDate', name: 'expectedCloseDate', type: 'date', value: existing?.expectedCloseDate ?? '' }),
  };
  (inputs.teamId as HTMLSelectElement).value = existing?.teamId ?? options.defaultTeam;
  /** The key signed in sees only some teams: a deal it does not find may have gone to another (goneText). */
  let limitedToTeams = options.limitedToTeams === true;
  /** Why this key may not save (a read-only key signed in over the form); null: it may. */
  let readOnly: string | null = null;
  /** Why this deal may not be saved: the key signed in does not find it (unseenDealText); null: it does, or it is not known yet. */
  let unseen: string | null = null;
  /** Reads the deal for the key signed in (seeDeal): one read at a time, and one more if asked meanwhile. */
  let seeing = false;
  let seeAgain = false;
  /** Why this deal may not be saved: won or lost meanwhile (closedMeanwhileText); null: it is open, or not known to be closed. */
  let closedMeanwhile: string | null = null;
  /** The one reason Save is off, if any: a read-only key first (it may save no deal at all). */
  const blocked = () => readOnly ?? unseen ?? closedMeanwhile;
  /**
   * Fields someone else changed while the rep had changed them too (takeFresh), with the value they
   * saved: Save waits until the rep chose, beside each, to keep theirs or their own. Saving at once
   * against the new revision would overwrite a change the rep may never have read (the notice can
   * arrive the instant they press Save).
   */
  const unresolved = new Map<Field, string>();
  /** A save on its way: Save stays off until its answer, whatever else changes meanwhile. */
  let sending = false;
  /** Saves sent: a read asked before one was sent may show the rep's own save, not someone else's change (seeDeal ignores it). */
  let sent = 0;
  /** The deal as the form compares and sends against: taken again when someone else changed it (takeFresh, or a 409). */
  let base = existing;
  const rescopeThis: typeof rescopeHere = (scope) => {
    const select = inputs.teamId as HTMLSelectElement;
    const teams = scope.teamsOf(options.definition);
    const chosen = select.value;
    select.replaceChildren(...teamOptions(teams));
    select.value = teams.includes(chosen) ? chosen : teams.length === 1 ? teams[0]! : '';
    limitedToTeams = scope.limitedToTeams;
    showReadOnly(scope.readOnly(existing !== undefined));
    // Another key may not see the deal (another team's, to a team-limited key): asked at once.
    seeDeal();
  };
  rescopeHere = rescopeThis;
  /**
   * Whether the key signed in sees the deal edited: asked when the form opens (the panel it was opened
   * from may have read it long before), for another key, and at each look of the live refresh. Not
   * found: said in the form, as the board says it of that key (goneText), and Save is off until it is
   * found again; what the rep typed stays. Found changed by someone else: takeFresh. Any other
   * failure says nothing here (a save says it).
   */
  const seeDeal = () => {
    if (!existing) return;
    // Asked while a read is on its way (another key signed in meanwhile): asked again once it is answered.
    if (seeing) {
      seeAgain = true;
      return;
    }
    seeing = true;
    const sentBefore = sent;
    api
      .get<OpportunityView>(`/opportunities/${encodeURIComponent(existing.id)}`)
      .then(
        (fresh) => {
          showUnseen(null);
          if (!sending && sent === sentBefore) takeFresh(fresh);
        },
        (error: unknown) => {
          if (error instanceof ApiError && isGone(error.problem)) showUnseen(unseenDealText(existing.title, limitedToTeams));
        },
      )
      .finally(() => {
        seeing = false;
        if (seeAgain && recheckHere === seeDeal) {
          seeAgain = false;
          seeDeal();
        }
      });
  };
  if (existing) recheckHere = seeDeal;
  /** Closed: no longer rescoped nor read again (another form opened since has its own). */
  const stopOffering = () => {
    if (rescopeHere === rescopeThis) rescopeHere = null;
    if (recheckHere === seeDeal) recheckHere = null;
  };
  const draftKey = existing ? `edit ${existing.id}` : `new ${options.definition.id}`;
  /** What each field showed before the rep typed: the deal as the form opened, then as taken again (takeFresh); a draft's `over`. */
  const initial = Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>;
  const draft = drafts.get(draftKey);
  for (const [field, value] of Object.entries(draft?.typed ?? {}) as [Field, string][]) inputs[field].value = value;
  // Changed by someone else since the rep typed over it: what was typed is kept, and said, or saving would silently undo their change.
  const changedSince = existing && draft ? FIELDS.filter((field) => draft.typed[field] !== undefined && draft.typed[field] !== initial[field] && draft.over[field] !== initial[field]) : [];
  const startOver = h('button', { type: 'button', class: 'start-over' }, 'Start over');
  const draftNote = draft
    ? h(
        'p',
        { class: 'hint draft-note', 'data-figure': 'draft' },
        'What you typed before is back (not saved yet). ',
        changedSince.length > 0 ? `Someone else changed ${changedSince.map((field) => labels[field]).join(', ')} since: what you typed is kept there, theirs beside it; choose Keep mine or Use theirs before saving. ` : '',
        startOver,
      )
    : null;
  startOver.addEventListener('click', () => {
    // Starting over takes the deal as it is now, someone else's values where a choice was pending.
    for (const [field, theirs] of unresolved) initial[field] = theirs;
    for (const field of FIELDS) showTheirs(field, null);
    showBlocked(null);
    for (const field of FIELDS) inputs[field].value = initial[field];
    drafts.delete(draftKey);
    draftNote?.remove();
    inputs.title.focus();
  });
  /** Keeps what the rep changed in a form closed unsaved; a saved form leaves no draft. */
  const keepDraft = (saved: boolean) => {
    if (options.current?.() === false) return; // signed out: nothing of the last key's is kept for the next
    const changed = FIELDS.filter((field) => inputs[field].value !== initial[field]);
    if (saved || changed.length === 0) drafts.delete(draftKey);
    else drafts.set(draftKey, { typed: Object.fromEntries(changed.map((field) => [field, inputs[field].value])), over: Object.fromEntries(changed.map((field) => [field, initial[field]])) });
  };
  const errors = Object.fromEntries(FIELDS.map((field) => [field, h('p', { class: 'field-error', id: `deal-${field}-error` })])) as unknown as Record<Field, HTMLElement>;
  /** Beside a field both the rep and someone else changed: their value, Keep mine, Use theirs (showTheirs). */
  const theirsNotes = Object.fromEntries(FIELDS.map((field) => [field, h('p', { class: 'field-theirs', id: `deal-${field}-theirs` })])) as unknown as Record<Field, HTMLElement>;
  /** What someone else changed while the form was open (takeFresh): said politely, as it comes, not as an error. */
  const changesNote = h('p', { id: 'deal-form-changes', class: 'hint form-changes', role: 'status', 'aria-live': 'polite' });
  const headingTitle = h('bdi', {}, existing?.title ?? '');
  const general = h('p', { id: 'deal-form-message', class: 'panel-message', 'data-tone': 'error', role: 'alert' });
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const save = h('button', { type: 'submit', class: 'primary' }, existing ? 'Save changes' : 'Create deal');
  const form = h(
    'form',
    { class: 'deal-form', novalidate: true },
    h('h2', { id: 'deal-form-title' }, ...(existing ? ['Edit “', headingTitle, '”'] : ['New deal in ', h('bdi', {}, options.definition.name)])),
    draftNote,
    existing ? changesNote : null,
    h(
      'div',
      { class: 'form-grid' },
      ...FIELDS.map((field) => {
        inputs[field].setAttribute('aria-describedby', `${errors[field].id} ${theirsNotes[field].id}`);
        return h('div', { class: `form-field form-field--${field}` }, h('label', { for: inputs[field].id }, labels[field]), inputs[field], errors[field], theirsNotes[field]);
      }),
    ),
    general,
    h('div', { class: 'panel-actions' }, cancel, save),
  );
  dialog.replaceChildren(form);
  // A draft typed over a field someone else changed since: their value beside it, and Save waits for
  // the rep's choice, as for a change that comes while the form is open (takeFresh).
  if (existing) for (const field of changedSince) showTheirs(field, existing);
  showBlocked(null);

  /** Read-only for the key signed in: every field and Save disabled (what was typed stays), and the reason said in the form's alert. */
  function showReadOnly(reason: string | null): void {
    const was = readOnly;
    readOnly = reason;
    for (const field of FIELDS) inputs[field].disabled = reason !== null;
    startOver.disabled = reason !== null;
    // Keep mine / Use theirs change a field, as typing does: not for a key that may not save.
    for (const button of form.querySelectorAll<HTMLButtonElement>('.field-theirs button')) button.disabled = reason !== null;
    showBlocked(was);
  }

  /** The deal not found for the key signed in (seeDeal): Save disabled, the reason said; the fields keep what was typed, to copy or to save once the deal is found again. */
  function showUnseen(reason: string | null): void {
    const was = unseen;
    unseen = reason;
    showBlocked(was);
  }

  /** The deal won or lost meanwhile (takeFresh): Save disabled, the reason said; what was typed stays, to copy or to save should it be reopened. */
  function showClosed(reason: string | null): void {
    const was = closedMeanwhile;
    closedMeanwhile = reason;
    showBlocked(was);
  }

  /**
   * Beside a field both changed: someone else's value, and the rep's choice. Keep mine: what they typed
   * stays, to be saved over theirs, now seen. Use theirs: the field takes it. Either way the field's
   * `initial` becomes theirs (a draft kept then names no change unseen). `fresh` null: nothing pending.
   */
  function showTheirs(field: Field, fresh: OpportunityView | null): void {
    if (fresh === null) {
      unresolved.delete(field);
      theirsNotes[field].replaceChildren();
      return;
    }
    const theirs = inputValue(fresh, field);
    const text = theirValueText(fresh, field);
    unresolved.set(field, theirs);
    const keep = h('button', { type: 'button', class: 'keep-mine', disabled: readOnly !== null }, 'Keep mine');
    const use = h('button', { type: 'button', class: 'use-theirs', disabled: readOnly !== null }, 'Use theirs');
    const chosen = (take: boolean) => {
      initial[field] = theirs;
      unresolved.delete(field);
      if (take) inputs[field].value = theirs;
      theirsNotes[field].replaceChildren(take ? '' : `${text} Yours is kept.`);
      showBlocked(null);
      inputs[field].focus(); // the button pressed is gone: the focus stays on the field it was about
    };
    keep.addEventListener('click', () => chosen(false));
    use.addEventListener('click', () => chosen(true));
    theirsNotes[field].replaceChildren(`${text} `, keep, ' ', use);
  }

  /**
   * The deal read again (seeDeal) after someone else changed it (its revision moved): won or lost, it
   * cannot be saved (showClosed); open, each field the rep left alone takes the new value silently, a
   * field both changed keeps what the rep typed with theirs beside it (showTheirs), and the notice says
   * which fields changed and to what. Save then goes against the new revision: nothing of theirs is
   * sent back unseen, and a change to no field of the form (a move) needs no word. The save's 409 said
   * all this only once the rep had typed everything and pressed Save.
   */
  function takeFresh(fresh: OpportunityView): void {
    if (!base || fresh.revision <= base.revision) return;
    if (fresh.status !== 'open') {
      showClosed(closedMeanwhileText(fresh.title, fresh.status));
      return;
    }
    showClosed(null);
    const change = otherChange(typedNow(), base, fresh);
    for (const field of change.taken) {
      inputs[field].value = inputValue(fresh, field);
      initial[field] = inputValue(fresh, field);
      showTheirs(field, null);
    }
    for (const field of change.both) showTheirs(field, fresh);
    base = fresh;
    headingTitle.textContent = fresh.title;
    if (change.theirs.length > 0) changesNote.textContent = otherChangeText(change, fresh);
    showBlocked(null);
  }

  /** What the fields hold now. */
  function typedNow(): Record<Field, string> {
    return Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>;
  }

  /** Save as the reasons against it stand (blocked), the reason in the form's alert and Save described by it, or by the notice while a choice is pending; `was`: the reason said until now, taken away once it no longer holds. */
  function showBlocked(was: string | null): void {
    const reason = blocked();
    const choosing = reason === null && unresolved.size > 0;
    save.disabled = reason !== null || choosing || sending;
    if (reason !== null) save.setAttribute('aria-describedby', general.id);
    else if (choosing) save.setAttribute('aria-describedby', changesNote.id);
    else save.removeAttribute('aria-describedby');
    if (reason !== null && general.textContent !== reason) general.textContent = reason;
    else if (reason === null && was !== null && general.textContent === was) general.textContent = '';
  }

  const clearErrors = () => {
    for (const field of FIELDS) {
      errors[field].textContent = '';
      inputs[field].removeAttribute('aria-invalid');
    }
    general.textContent = '';
  };
  // A refusal: each field's message beside it, in a rep's words (deal-form-messages.model.ts), and a
  // summary naming the fields in the form's alert, which screen readers announce.
  const show = (error: ApiError) => {
    const refusal = formRefusal(error.problem, (message) => inWords(message, options.definition));
    for (const field of FIELDS) {
      const message = refusal.byField[field];
      if (message === undefined) continue;
      errors[field].textContent = message;
      inputs[field].setAttribute('aria-invalid', 'true');
    }
    general.textContent = `Not saved. ${refusal.summary}`;
    // The first field in trouble gets the focus, so its message is read out with it.
    FIELDS.map((field) => inputs[field]).find((input) => input.getAttribute('aria-invalid') === 'true')?.focus();
  };

  return new Promise((resolve) => {
    let saved: DealSaved | null = null;
    /** An ambiguous amount the rep was asked about: saved again unchanged, it is what they meant. */
    let confirmedAmount: string | undefined;
    /** A save whose outcome is unknown (no answer, a 5xx): sent again as it stands, even after signing in again, it goes under the same key, so it is recorded once. */
    const send = resending();
    /** The save under way: closing the form meanwhile (Escape, Cancel) waits for its answer, so a deal saved is never saved silently. */
    let saving: Promise<void> | null = null;
    cancel.addEventListener('click', () => dialog.close());
    // Closed while a save is under way, the form waits for its answer. Saved, it resolves as any save
    // does; refused or unanswered, the rep would never learn of it (the form's own message is in a
    // closed dialog) and what they typed would be gone: the form opens again as it stands, its
    // message shown, and the failure is said in the status line too.
    const closed = () => {
      const pending = saving;
      if (pending === null) {
        dialog.removeEventListener('close', closed);
        stopOffering();
        keepDraft(saved !== null);
        resolve(saved);
        return;
      }
      void pending.then(() => {
        if (saved !== null || dialog.open || options.current?.() === false) {
          if (dialog.open) return; // opened again meanwhile: its own close resolves
          dialog.removeEventListener('close', closed);
          stopOffering();
          keepDraft(saved !== null);
          resolve(saved);
          return;
        }
        const message = general.textContent ?? '';
        const title = inputs.title.value.trim();
        dialog.showModal();
        announce(`${title ? quotedTitle(title) : 'The deal'} was not saved: ${message.replace(/^Not saved\. /, '') || 'the form says what to correct.'} The form is open again with what you typed.`, 'error');
        // Set again once the dialog is open, so its alert is read out (a closed dialog's is not).
        general.textContent = '';
        general.textContent = message;
        (FIELDS.map((field) => inputs[field]).find((input) => input.getAttribute('aria-invalid') === 'true') ?? save).focus();
      });
    };
    dialog.addEventListener('close', closed);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // A read-only key, or a deal it does not find: nothing is sent (Save is disabled; Enter in a field lands here all the same).
      const reason = blocked();
      if (reason !== null) {
        general.textContent = reason;
        return;
      }
      // Someone else's value beside a field the rep changed too, not chosen yet: nothing is sent over it unseen.
      const pending = [...unresolved.keys()];
      if (pending.length > 0) {
        general.textContent = `Not saved yet: someone else changed ${pending.map((field) => labels[field]).join(', ')} too; choose Keep mine or Use theirs beside it.`;
        theirsNotes[pending[0]!].querySelector('button')?.focus();
        return;
      }
      clearErrors();
      const unclear = amountProblem(inputs.amount.value);
      // An ambiguous amount saved again as it stands is confirmed: taken as written (a dot for decimals).
      if (unclear && !(unclear.kind === 'ambiguous' && confirmedAmount === inputs.amount.value.trim())) {
        confirmedAmount = unclear.kind === 'ambiguous' ? inputs.amount.value.trim() : undefined;
        errors.amount.textContent = unclear.message;
        inputs.amount.setAttribute('aria-invalid', 'true');
        general.textContent = unclear.kind === 'ambiguous' ? 'Not saved yet: check the Amount.' : 'Not saved. Amount needs correcting.';
        inputs.amount.focus();
        return;
      }
      const typed = Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>;
      const emptied = emptiedFields(typed, base);
      if (emptied.length > 0) {
        for (const field of emptied) {
          errors[field].textContent = CANNOT_EMPTY[field];
          inputs[field].setAttribute('aria-invalid', 'true');
        }
        general.textContent = `Not saved. ${needCorrecting(emptied)}`;
        inputs[emptied[0]!].focus();
        return;
      }
      save.disabled = true;
      const body = dealBody(typed, base);
      if (base && Object.keys(body).length === 0) {
        dialog.close(); // nothing changed: nothing to record
        return;
      }
      sending = true;
      sent += 1;
      const request = base ? { ...body, expectedRevision: base.revision } : { ...body, processId: options.definition.id };
      const editing = base;
      const title = typeof body.title === 'string' ? body.title : (editing?.title ?? '');
      saving = send(request, (key) => (editing ? api.patch(`/opportunities/${editing.id}`, request, key) : api.command('/opportunities', request, key)))
        .then((answer) => {
          saved = { ...answer, title };
          dialog.close();
        })
        .catch(async (error: unknown) => {
          if (editing && error instanceof ApiError && error.status === 409) {
            // What the rep typed stays; the form now compares with, and sends against, the deal as it is.
            const fresh = await api.get<OpportunityView>(`/opportunities/${editing.id}`).catch(() => null);
            if (fresh === null) {
              general.textContent = 'Someone else changed this deal meanwhile, and it could not be read again; close this form and open it again.';
              return;
            }
            // Won or lost meanwhile: no edit can go through (the API would refuse it as closed); said, Save off.
            if (fresh.status !== 'open') {
              showClosed(closedMeanwhileText(fresh.title, fresh.status));
              return;
            }
            // The fields the rep changed keep what was typed; every other field takes the deal's value
            // as it is now, or saving again would send the old value back over the other person's change.
            const typed = Object.fromEntries(FIELDS.map((field) => [field, inputs[field].value])) as Record<Field, string>;
            const mine = new Set(Object.keys(dealBody(typed, editing)));
            const theirs = FIELDS.filter((field) => (fresh[field] ?? null) !== (editing[field] ?? null));
            for (const field of theirs) {
              if (!mine.has(field)) inputs[field].value = inputValue(fresh, field);
              initial[field] = inputValue(fresh, field); // seen now: a draft kept names it no more
            }
            const both = theirs.filter((field) => mine.has(field)).map((field) => labels[field]);
            base = fresh;
            general.textContent =
              `Someone else changed this deal meanwhile${theirs.length ? ` (${theirs.map((field) => labels[field]).join(', ')})` : ''}; the form now shows their changes. ` +
              (both.length ? `You changed ${both.join(', ')} too: what you typed is kept there. ` : 'What you typed is kept. ') +
              'Check it and save again.';
          } else if (editing && error instanceof ApiError && isGone(error.problem)) showUnseen(unseenDealText(editing.title, limitedToTeams));
          else if (error instanceof ApiError) show(error);
          else general.textContent = String(error);
        })
        .finally(() => {
          saving = null;
          sending = false;
          showBlocked(null);
        });
    });
    dialog.showModal();
    inputs.title.focus();
    seeDeal();
  });
}
