import { deterministicUuid } from './deterministic-uuid';

// Ids derived from a command id (an opening's opportunity id, each event's id) must come out the
// same in every release: a retry after an upgrade has to land on what the first attempt stored.
describe('deterministicUuid', () => {
  it('gives the ids it always gave (values computed by the first implementation)', () => {
    expect(deterministicUuid('opportunity', 'key-1')).toBe('2e139583-8823-52e2-8271-6293683cba10');
    expect(deterministicUuid('event', 'opportunity-x', 'c\ud800', 3)).toBe('3d4a697d-d228-5b44-b836-1f7862ca10c1');
  });

  it('is UUID-shaped, version 5 layout and RFC 4122 variant', () => {
    expect(deterministicUuid('a', 1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
