import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { deserialize, serialize } from 'node:v8';
import {
  deserializeModel,
  deserializeModelInSlices,
  MODEL_FORMAT_VERSION,
  serializeModel,
  serializeModelInSlices,
  SnapshotFormatError,
} from './model-serialization';

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
    expect(serializeModel(model).reduce((bytes, chunk) => bytes + chunk.length, 0)).toBeLessThan(2000);
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

describe('the chunked snapshot format', () => {
  const totalBytes = (chunks: readonly Uint8Array[]) => chunks.reduce((bytes, chunk) => bytes + chunk.length, 0);

  // Every kind of value a model may hold, shared and cyclic references included.
  const everyKind = () => {
    const shared = { id: 'shared', tags: new Set(['a', 'b']) };
    const dictionary = Object.create(null) as Record<string, unknown>;
    dictionary.__proto__ = 'a key like any other';
    dictionary.EUR = 12.5;
    const model: Record<string, unknown> = {
      numbers: [0, -0, 1.5, -7, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 40],
      strings: ['', 'plain', 'Ünïcode ✓ 🚀', 'x'.repeat(5_000)],
      others: [true, false, null, undefined, 12345678901234567890n],
      columns: {
        int8: Int8Array.of(-1, 2),
        uint8: Uint8Array.of(255, 0),
        clamped: Uint8ClampedArray.of(7),
        int16: Int16Array.of(-300),
        uint16: Uint16Array.of(60_000),
        int32: Int32Array.of(-5, 6),
        uint32: Uint32Array.of(4_000_000_000),
        float32: Float32Array.of(0.5),
        float64: Float64Array.of(Math.PI, NaN),
        bigint64: BigInt64Array.of(-9n),
        biguint64: BigUint64Array.of(9n),
        empty: new Float64Array(0),
      },
      index: new Map<unknown, unknown>([
        ['deal-1', 0],
        [42, shared],
        [shared, 'an object as key'],
      ]),
      when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      shared,
      again: shared,
      dictionary,
      nested: { deeper: { deepest: [[[]], {}, new Map(), new Set()] } },
    };
    model.self = model;
    return model;
  };

  it.each([1, 7, 64, 4096])('round-trips every kind of value through chunks of at most %i bytes', (chunkBytes) => {
    const model = everyKind();
    const chunks = serializeModel(model, { chunkBytes });
    const loaded = deserializeModel(chunks) as ReturnType<typeof everyKind>;

    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(chunkBytes);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(totalBytes(chunks) / chunkBytes));
    expect(loaded).toEqual(model);
    expect(Object.is((loaded.numbers as number[])[1], -0)).toBe(true);
    expect(loaded.self).toBe(loaded);
    expect(loaded.again).toBe(loaded.shared);
    expect((loaded.index as Map<unknown, unknown>).get(42)).toBe(loaded.shared);
    expect((loaded.index as Map<unknown, unknown>).get(loaded.shared)).toBe('an object as key');
    // A dictionary keeps its null prototype, so "__proto__" stays a plain key after loading.
    expect(Object.getPrototypeOf(loaded.dictionary)).toBeNull();
    expect((loaded.dictionary as Record<string, unknown>).__proto__).toBe('a key like any other');
    expect((loaded.columns as Record<string, unknown>).bigint64).toBeInstanceOf(BigInt64Array);
  });

  it('reads back what V8 itself would, for any value (fast-check, fixed seed)', () => {
    assertProperty(
      fc.property(
        fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withNullPrototype: true, withBoxedValues: false, withSparseArray: false, withTypedArray: false, maxDepth: 4 }),
        fc.integer({ min: 1, max: 300 }),
        (value, chunkBytes) => {
          const chunks = serializeModel(value, { chunkBytes });
          expect(chunks.every((chunk) => chunk.length <= chunkBytes)).toBe(true);
          expect(deserializeModel(chunks)).toEqual(deserialize(serialize(value)));
        },
      ),
      { seed: 19, numRuns: 300 },
    );
  });

  it('in slices, lets the event loop run between them, hands the chunks on as they fill and writes the same bytes', async () => {
    const model = { ids: Array.from({ length: 50_000 }, (_, i) => `opportunity-${i}`), column: { values: new Float64Array(300_000).fill(1.5), length: 200_000 } };
    let turns = 0;
    let counting = true;
    const count = () => {
      turns += 1;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const chunks: Uint8Array[] = [];
    let handOns = 0;
    for await (const some of serializeModelInSlices(model, { sliceMs: 0, chunkBytes: 100_000 })) {
      chunks.push(...some);
      handOns += 1;
    }
    const turnsWhileSerialising = turns;
    const loaded = await deserializeModelInSlices(chunks, { sliceMs: 0 });
    counting = false;

    expect(turnsWhileSerialising).toBeGreaterThan(3);
    // ~2.6 MB in 100 kB chunks, handed on as they fill, not all at the end.
    expect(handOns).toBeGreaterThan(3);
    expect(turns).toBeGreaterThan(turnsWhileSerialising + 3);
    // Compared as bytes: Jest's element-by-element diff of megabytes would take seconds.
    expect(Buffer.compare(Buffer.concat(chunks), Buffer.concat(serializeModel(model, { chunkBytes: 100_000 })))).toBe(0);
    const { ids, column } = loaded as typeof model;
    expect(ids).toEqual(model.ids);
    expect(column.length).toBe(200_000);
    expect(Buffer.compare(Buffer.from(column.values.buffer), Buffer.from(model.column.values.buffer, 0, 200_000 * 8))).toBe(0);
  });

  it('fills the reusable chunks it is given before allocating, skips any not of its chunk size, and writes the same bytes', async () => {
    const model = { ids: Array.from({ length: 20_000 }, (_, i) => `opportunity-${i}`) };
    const chunkBytes = 4096;
    const given = Array.from({ length: 5 }, () => new Uint8Array(new ArrayBuffer(chunkBytes)).fill(0xee));
    // Not reusable: another size, and a view into a larger buffer (a transfer would take all of it).
    const wrongSize = new Uint8Array(chunkBytes / 2);
    const inLarger = new Uint8Array(new ArrayBuffer(chunkBytes * 2), 0, chunkBytes);
    const reusable = [wrongSize, inLarger, ...given];
    const chunks: Uint8Array[] = [];
    for await (const some of serializeModelInSlices(model, { chunkBytes, reusable })) chunks.push(...some);

    expect(reusable).toEqual([]);
    const buffers = new Set(chunks.map((chunk) => chunk.buffer));
    for (const chunk of given) expect(buffers.has(chunk.buffer)).toBe(true);
    expect(buffers.has(wrongSize.buffer)).toBe(false);
    expect(buffers.has(inLarger.buffer)).toBe(false);
    expect(Buffer.compare(Buffer.concat(chunks), Buffer.concat(serializeModel(model, { chunkBytes })))).toBe(0);
    expect(deserializeModel(chunks)).toEqual(model);
  });

  it('refuses bytes that are not a whole snapshot of this format, instead of misreading them', () => {
    const chunks = serializeModel(everyKind(), { chunkBytes: 50 });
    const whole = Buffer.concat(chunks);
    const flipped = Buffer.from(whole);
    flipped[whole.indexOf(0x4d, 30)] = 0x58; // a Map's record tag becomes an unknown one
    const newer = Buffer.from(whole);
    newer[5 + 'STAGECRAFT-MODEL'.length] = MODEL_FORMAT_VERSION + 1;

    expect(() => deserializeModel(chunks.slice(0, -1))).toThrow(SnapshotFormatError);
    expect(() => deserializeModel([...chunks, Uint8Array.of(0x5a, 0, 0, 0, 0)])).toThrow(SnapshotFormatError);
    expect(() => deserializeModel([flipped])).toThrow(SnapshotFormatError);
    expect(() => deserializeModel([newer])).toThrow(/format version/);
    expect(() => deserializeModel([serialize({ an: 'old V8 snapshot' })])).toThrow(SnapshotFormatError);
    // A byte changed inside a run of values: V8's own reader fails, reported the same way.
    const runAt = whole.indexOf(0x50, 30);
    const garbled = Buffer.from(whole);
    garbled.fill(0xff, runAt + 5, runAt + 12);
    expect(() => deserializeModel([garbled])).toThrow(SnapshotFormatError);
    expect(() => deserializeModel([])).toThrow(SnapshotFormatError);
  });

  it('refuses what V8 would refuse too: functions and symbols', () => {
    expect(() => serializeModel({ f: () => 1 })).toThrow(TypeError);
    expect(() => serializeModel([Symbol('s')])).toThrow(TypeError);
  });
});
