import { columnsFitSideBySide } from './board-layout.model';

describe('whether the columns stand side by side (board-layout.model)', () => {
  const rem = 16;

  it('puts six columns side by side at 1280 px, but not at 200 % zoom of a 1366 px laptop (683 px)', () => {
    expect(columnsFitSideBySide((1280 - 32) / rem, 6)).toBe(true);
    expect(columnsFitSideBySide((683 - 32) / rem, 6)).toBe(false);
  });

  it('needs each column at 9.5rem and the gaps between them, no more', () => {
    // 6 × 9.5 + 5 × 0.5 = 59.5
    expect(columnsFitSideBySide(59.5, 6)).toBe(true);
    expect(columnsFitSideBySide(59.49, 6)).toBe(false);
  });

  it('decides by how many columns there are: three fit where six do not', () => {
    expect(columnsFitSideBySide(40, 3)).toBe(true);
    expect(columnsFitSideBySide(40, 6)).toBe(false);
  });

  it('always shows a single column (or none) as it is', () => {
    expect(columnsFitSideBySide(5, 1)).toBe(true);
    expect(columnsFitSideBySide(0, 0)).toBe(true);
  });
});
