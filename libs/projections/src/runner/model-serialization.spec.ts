import { deserializeModel, serializeModel } from './model-serialization';

describe('serializeModel', () => {
  it('cuts column arrays to their length, leaving the live model as it was', () => {
    const column = { values: new Float64Array(1024), length: 3 };
    column.values.set([1, 2, 3]);
    const empty = { values: new Int32Array(64), length: 0 };
    const model = { column, empty, visits: [{ seconds: new Float64Array(16), row: new Int32Array(16), length: 2, sum: 3 }, null] };
    model.visits[0]!.seconds.set([1, 2]);

    const loaded = deserializeModel(serializeModel(model)) as typeof model;
    expect([...loaded.column.values]).toEqual([1, 2, 3]);
    expect(loaded.empty.values).toHaveLength(64); // nothing to cut: a length of 0 keeps its room to grow
    expect([...loaded.visits[0]!.seconds]).toEqual([1, 2]);
    expect(loaded.visits[1]).toBeNull();
    expect(column.values).toHaveLength(1024);
    expect(serializeModel(model).length).toBeLessThan(2000);
  });

  it('keeps shared and cyclic references shared, and Maps and Sets as they are', () => {
    const version = { id: 'v1', stages: ['a', 'b'] };
    const catalog: { versions: Map<string, typeof version>; self?: unknown } = { versions: new Map([['v1', version]]) };
    catalog.self = catalog;
    const model = { catalog, current: version, names: new Set(['x']), index: new Map([['o1', 0]]) };

    const loaded = deserializeModel(serializeModel(model)) as typeof model;
    expect(loaded.catalog.versions.get('v1')).toBe(loaded.current);
    expect(loaded.catalog.self).toBe(loaded.catalog);
    expect(loaded.names).toEqual(new Set(['x']));
    expect(loaded.index.get('o1')).toBe(0);
  });
});
