import { SORTS, SORT_LABELS, type BoardFilters, type Sort } from './board-filters.model';
import { byId, h } from './dom';
import { isolated } from './format';

// The toolbar above the board: search, owner filter, sort, and on a phone the stage switcher.
// Its values are read from and written to the address by main.ts (board-filters.model.ts).

export interface FilterControls {
  show(filters: BoardFilters, owners: readonly string[]): void;
  /** The stages a phone shows one at a time. */
  showStages(stages: readonly { key: string; name: string; count: number }[], current: string): void;
}

export function wireFilters(changed: (filters: BoardFilters) => void, stageChosen: (stage: string) => void): FilterControls {
  const search = byId<HTMLInputElement>('search');
  const owner = byId<HTMLSelectElement>('owner-filter');
  const sort = byId<HTMLSelectElement>('sort');
  const stage = byId<HTMLSelectElement>('stage-switcher');
  sort.replaceChildren(...SORTS.map((value) => h('option', { value }, SORT_LABELS[value])));
  const read = (): BoardFilters => ({ q: search.value, owner: owner.value, sort: sort.value as Sort });
  // Typing filters as it goes; a short pause keeps the address from changing on every key.
  let typing: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => changed(read()), 150);
  });
  byId<HTMLFormElement>('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    changed(read());
  });
  owner.addEventListener('change', () => changed(read()));
  sort.addEventListener('change', () => changed(read()));
  stage.addEventListener('change', () => stageChosen(stage.value));
  return {
    show(filters, owners) {
      if (document.activeElement !== search) search.value = filters.q;
      const known = filters.owner && !owners.includes(filters.owner) ? [...owners, filters.owner] : owners;
      owner.replaceChildren(h('option', { value: '' }, 'All owners'), ...known.map((name) => h('option', { value: name }, name)));
      owner.value = filters.owner;
      sort.value = filters.sort;
    },
    showStages(stages, current) {
      stage.replaceChildren(...stages.map((entry) => h('option', { value: entry.key }, `${isolated(entry.name)} (${entry.count})`)));
      stage.value = current;
    },
  };
}
