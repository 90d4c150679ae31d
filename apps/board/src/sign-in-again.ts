import { byId, h } from './dom';

// A key refused while the rep works (revoked, expired, rotated): sign-in is offered at once, over
// whatever is open, so a form half filled in, a closing note or an open panel is not lost. The rep
// gives another key and sends again; "Sign out instead" leaves for the sign-in page.

export interface SignInAgain {
  /** Whether the key works: resolves with a message to show when it does not. */
  readonly accept: (credentials: string) => Promise<string | null>;
  /** The rep would rather sign out: everything open is closed. */
  readonly signOut: () => void;
  /** Signed in again, the dialog closed: what it covered may be loaded again now (while open, it is itself a dialog in the way). */
  readonly signedIn: () => void;
}

/** Opens the dialog unless it is open already (several requests may be refused at once). */
export function offerSignInAgain(actions: SignInAgain): void {
  const dialog = byId<HTMLDialogElement>('sign-in-again');
  if (dialog.open) return;
  const input = h('input', { id: 'sign-in-again-credentials', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'sign-in-again-error' });
  const error = h('p', { id: 'sign-in-again-error', class: 'panel-message', 'data-tone': 'error', role: 'alert' });
  const signOut = h('button', { type: 'button' }, 'Sign out instead');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in and go on');
  const form = h(
    'form',
    { novalidate: true },
    h('h2', { id: 'sign-in-again-title' }, 'Sign in again'),
    h('p', {}, 'This key or token is no longer accepted. Sign in with another to go on: what you typed stays where it is, send it again once signed in.'),
    h('div', { class: 'form-field' }, h('label', { for: input.id }, 'API key or bearer token'), input, error),
    h('div', { class: 'panel-actions' }, signOut, submit),
  );
  dialog.replaceChildren(form);
  /** How the dialog may close: only once the rep signed in, or chose to sign out. */
  let outcome: 'open' | 'signed-in' | 'leaving' = 'open';
  signOut.addEventListener('click', () => {
    outcome = 'leaving';
    dialog.close();
  });
  // Escape is not a way out: the page behind would stay refused with nothing saying why.
  // closedby="none" (index.html) keeps it from closing the dialog; where a browser ignores it,
  // cancel is refused, and a close all the same (Chromium skips cancel on an Escape repeated with
  // no click or key in between) opens it again as it was, with what the rep typed.
  // Properties, not listeners: the dialog element stays, and is opened again at each refusal.
  dialog.oncancel = (event) => event.preventDefault();
  dialog.onclose = () => {
    if (outcome === 'leaving') actions.signOut();
    else if (outcome === 'open') {
      dialog.showModal();
      input.focus();
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      error.textContent = 'Enter an API key or bearer token.';
      input.focus();
      return;
    }
    submit.disabled = true;
    void actions
      .accept(value)
      .then((refused) => {
        if (outcome === 'leaving') return; // the rep chose to sign out while it was checked
        if (refused === null) {
          outcome = 'signed-in';
          dialog.close();
          actions.signedIn();
        } else {
          error.textContent = refused;
          input.select();
        }
      })
      .finally(() => (submit.disabled = false));
  });
  dialog.showModal();
  input.focus();
}
