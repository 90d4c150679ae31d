// A test that cannot run in some setup (store, read models, platform, an adapter's capabilities)
// is skipped where Jest sees it, with the reason in its title ("… [skipped: why]"), never by an
// early `return` inside its body, which Jest would count as passed.

type TestBody = jest.ProvidesCallback;

const titled = (name: string, why: string) => `${name} [skipped: ${why}]`;

/** `it` when `runs`; otherwise `it.skip`, the title saying why. */
export function itIf(runs: boolean, why: string): (name: string, body: TestBody, timeout?: number) => void {
  return runs ? (name, body, timeout) => it(name, body, timeout) : (name, body, timeout) => it.skip(titled(name, why), body, timeout);
}

/** `describe` when `runs`; otherwise `describe.skip`, the title saying why. */
export function describeIf(runs: boolean, why: string): (name: string, body: () => void) => void {
  return runs ? (name, body) => describe(name, body) : (name, body) => describe.skip(titled(name, why), body);
}
