// Which of the media types a route can answer in the client prefers, read from Accept as RFC 9110
// (section 12.5.1) says: each offered type takes the weight (q) of the most specific range that
// matches it (type/subtype over type/* over */*), q=0 means "not this one", and among equal
// weights the route's own order decides. An absent Accept header takes anything.

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function rangesOf(accept: string): MediaRange[] {
  return accept.split(',').flatMap((part) => {
    const [range = '', ...parameters] = part.split(';').map((piece) => piece.trim());
    const [type, subtype] = range.toLowerCase().split('/');
    if (!type || !subtype) return [];
    const qParameter = parameters.find((parameter) => /^q\s*=/i.test(parameter));
    const q = qParameter === undefined ? 1 : Number(qParameter.replace(/^q\s*=\s*/i, ''));
    return Number.isFinite(q) && q >= 0 && q <= 1 ? [{ type, subtype, q }] : [];
  });
}

/** The weight Accept gives `offered` (type/subtype): that of its most specific matching range, 0 when none matches. */
function weightOf(offered: string, ranges: readonly MediaRange[]): number {
  const [type, subtype] = offered.split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const range of ranges) {
    const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    if (best === undefined || specificity > best.specificity || (specificity === best.specificity && range.q > best.q)) best = { specificity, q: range.q };
  }
  return best?.q ?? 0;
}

/** The offered media type the client prefers, or undefined when Accept refuses every one of them. */
export function preferredMediaType(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = rangesOf(accept);
  // An Accept header with nothing readable in it says nothing: answered as if absent.
  if (ranges.length === 0) return offered[0];
  let chosen: string | undefined;
  let chosenWeight = 0;
  for (const type of offered) {
    const weight = weightOf(type, ranges);
    if (weight > chosenWeight) {
      chosen = type;
      chosenWeight = weight;
    }
  }
  return chosen;
}
