// A few lines instead of a framework: elements built from plain data, events wired by hand.

type Child = Node | string | null | undefined | false;
type Attributes = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** An element with attributes (false/null/undefined ones are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no #${id}`);
  return element as T;
}

/**
 * Says something to everyone, screen readers included (the status region is aria-live). Behind a
 * modal dialog the status line is out of the accessibility tree (Chromium: ignored,
 * "activeModalDialog"), and a change made then is never read out ("Signed in again", said as the
 * sign-in dialog closes; a refusal while a deal's panel is open): it is said again once the last
 * modal dialog has closed, if nothing was said since. `about`: what it is about (statusAbout).
 */
export function announce(message: string, tone: 'info' | 'error' = 'info', about = ''): void {
  const status = byId('status');
  status.textContent = message;
  status.dataset.tone = tone;
  // What the message is about (a deal whose move went unanswered), so a later look can tell whether it still stands.
  status.dataset.about = about;
  if (message !== '') sayAgainAfterDialogs(status, message);
}

/** What the status line's message is about, as `announce` was told ('' when nothing in particular). */
export function statusAbout(): string {
  return byId('status').dataset.about ?? '';
}

function sayAgainAfterDialogs(status: HTMLElement, message: string): void {
  const modal = document.querySelector<HTMLDialogElement>('dialog:modal');
  if (!modal) return;
  const said = status.firstChild;
  modal.addEventListener(
    'close',
    () => {
      if (status.firstChild !== said) return; // something else was said since
      if (document.querySelector('dialog:modal')) sayAgainAfterDialogs(status, message); // another (or the same, opened again) is in the way
      else status.replaceChildren(document.createTextNode(message)); // the same words, as a new text: read out
    },
    { once: true },
  );
}

/**
 * Redraws a panel's contents without throwing the keyboard user's place away: the element that had
 * the focus (by id) has it again after the redraw. The place is kept across redraws that disable
 * it (a ticked box while its command runs: a disabled element drops the focus to the page), and
 * given back once the element can take it again.
 */
export function focusKeeper(container: HTMLElement): (redraw: () => void) => void {
  let kept: string | undefined;
  return (redraw) => {
    const active = document.activeElement;
    if (active instanceof HTMLElement && active.id && container.contains(active)) kept = active.id;
    else if (active !== null && active !== document.body) kept = undefined; // the user went elsewhere
    redraw();
    const target = kept === undefined ? null : document.getElementById(kept);
    if (target === null || !container.contains(target)) kept = undefined;
    else if (!(target as HTMLInputElement).disabled) target.focus();
  };
}

/**
 * Evidence notes typed and not yet sent with a tick, by deal and criterion: the card's panel and the
 * panel of unmet criteria share them, and a panel closed (an Escape by reflex) and opened again finds
 * them where the rep typed them. Only deals with a note typed have an entry; a deal's notes go once
 * it is closed (its criteria are no longer to tick), and all of them on signing out.
 */
const typedNotes = new Map<string, Map<string, string>>();

/** The notes typed for one deal's criteria, by criterion id. */
export interface EvidenceNotes {
  get(criterionId: string): string | undefined;
  /** An emptied note is no note. */
  set(criterionId: string, text: string): void;
  delete(criterionId: string): void;
}

export function evidenceNotes(dealId: string): EvidenceNotes {
  const remove = (criterionId: string) => {
    const notes = typedNotes.get(dealId);
    notes?.delete(criterionId);
    if (notes?.size === 0) typedNotes.delete(dealId);
  };
  return {
    get: (criterionId) => typedNotes.get(dealId)?.get(criterionId),
    set: (criterionId, text) => {
      if (text === '') return remove(criterionId);
      const notes = typedNotes.get(dealId) ?? new Map<string, string>();
      typedNotes.set(dealId, notes.set(criterionId, text));
    },
    delete: remove,
  };
}

/** Forgets the notes typed for these deals (closed since), or for every deal (signing out). */
export function forgetEvidenceNotes(dealIds?: Iterable<string>): void {
  if (dealIds === undefined) typedNotes.clear();
  else for (const dealId of dealIds) typedNotes.delete(dealId);
}
