import type { MoveTarget } from './board.model';
import { h } from './dom';

// The keyboard way to do what a drag does: "Move to…" opens a menu of the other columns.
// Arrow keys walk it, Enter picks, Escape closes it and gives the focus back to the button; Tab
// closes it and goes on from the button.

let openMenu: { menu: HTMLElement; button: HTMLButtonElement } | null = null;

export function closeMoveMenu(returnFocus = false): void {
  if (!openMenu) return;
  const { menu, button } = openMenu;
  openMenu = null;
  menu.remove();
  button.setAttribute('aria-expanded', 'false');
  if (returnFocus) button.focus();
}

export function openMoveMenu(button: HTMLButtonElement, targets: readonly MoveTarget[], choose: (target: MoveTarget) => void): void {
  closeMoveMenu();
  const items = targets.map((target) =>
    h('button', { type: 'button', role: 'menuitem', class: `menu-item menu-item--${target.kind}`, 'data-target': target.kind === 'stage' ? target.stageId : target.kind, tabindex: -1 }, target.name),
  );
  const menu = h('div', { role: 'menu', class: 'move-menu', 'aria-label': button.getAttribute('aria-label') ?? 'Move to' }, ...items);
  items.forEach((item, index) => {
    item.addEventListener('click', () => {
      closeMoveMenu(true);
      choose(targets[index]!);
    });
  });
  menu.addEventListener('keydown', (event) => {
    const current = items.indexOf(document.activeElement as HTMLButtonElement);
    const focusAt = (index: number) => items[(index + items.length) % items.length]?.focus();
    if (event.key === 'ArrowDown') focusAt(current + 1);
    else if (event.key === 'ArrowUp') focusAt(current - 1);
    else if (event.key === 'Home') focusAt(0);
    else if (event.key === 'End') focusAt(items.length - 1);
    else if (event.key === 'Escape') closeMoveMenu(true);
    else if (event.key === 'Tab') {
      // Closed, and the Tab goes on from the button, as from any menu button (Shift+Tab: to what is
      // before it). Kept from going on, it left the focus on the menu item just removed: on nothing.
      closeMoveMenu(true);
      return;
    } else return;
    event.preventDefault();
  });
  button.after(menu);
  button.setAttribute('aria-expanded', 'true');
  openMenu = { menu, button };
  items[0]?.focus();
}

// A click anywhere else closes the menu, as menus do.
document.addEventListener('click', (event) => {
  if (openMenu && !openMenu.menu.contains(event.target as Node) && event.target !== openMenu.button) closeMoveMenu();
});
