import { deserialize, serialize } from 'node:v8';

// A read model's snapshot format. V8's serializer does a model in one synchronous call and one
// buffer, which at a million events stalls the event loop for tens of milliseconds per model and
// heads for SQLite's 2^29-byte blob limit near 14M events. This codec walks the model with an
// explicit stack, so the work can stop at any point and go on after the event loop has run, and
// writes a byte stream cut into chunks of a bounded size. Runs of primitive values (most of a
// model: ids, titles, Map entries) are handed to V8's serializer in batches; typed arrays are
// copied as raw bytes. Shared and cyclic references stay shared, as V8 keeps them.
//
// Stream: records of [tag u8][payload length u32 LE][payload]. The root is one item; a container
// record is followed by its items (Array: elements; Map: key, value, …; Set: values; Object: the
// values of its keys), depth first. A run of primitives may span container ends: both sides hand
// items to the innermost open container in the same order.

/** Thrown on bytes that are not a whole snapshot of this format: a snapshot is never misread. */
export class SnapshotFormatError extends Error {
  constructor(reason: string) {
    super(`Not a readable read-model snapshot: ${reason}`);
    this.name = 'SnapshotFormatError';
  }
}

export interface ModelSerializationOptions {
  /** Largest chunk of a serialised model (each is stored as one row); default 1 MiB, far below SQLite's 2^29-byte blob limit. */
  readonly chunkBytes?: number;
  /** Longest stretch of work between two turns of the event loop; default 4 ms. */
  readonly sliceMs?: number;
  /**
   * Chunks of exactly chunkBytes, each with a buffer of its own, to fill again before any new one
   * is allocated: a save puts there the parts the writing thread has handed back. Taken from the
   * end, while the serialiser runs; whoever gives them must no longer read them.
   */
  readonly reusable?: Uint8Array[];
}

// Small enough that filling, copying or writing one is a short step of its own.
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const DEFAULT_SLICE_MS = 4;
const FORMAT_MAGIC = 'STAGECRAFT-MODEL';
export const MODEL_FORMAT_VERSION = 1;

const TAG = {
  format: 0x46, // F
  array: 0x41, // A
  map: 0x4d, // M
  set: 0x53, // S
  object: 0x4f, // O
  typed: 0x54, // T
  bytes: 0x42, // B
  date: 0x44, // D
  primitives: 0x50, // P
  reference: 0x52, // R
  end: 0x5a, // Z
} as const;

const PRIMITIVE_RUN = 4096;
const WORK_PER_CLOCK_READ = 2048;
// Typed arrays go out in pieces of this size, one per step, so a large column is sliced too.
const BYTES_PER_RECORD = 256 * 1024;
const HEADER_BYTES = 5;

type TypedArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;

/** Serialises a model at once (tests, offline tools). */
export function serializeModel(model: unknown, options: ModelSerializationOptions = {}): Uint8Array[] {
  const encoder = new ModelEncoder(model, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  encoder.step(Infinity);
  return encoder.chunks();
}

/**
 * Serialises a model in slices, yielding to the event loop between them, and hands its chunks
 * on as they fill (the last ones once it is done): a save passes them to the thread that writes
 * them, so a large model's bytes are never all in memory at once. The model must not change
 * until the generator is done (the projection runner holds events back meanwhile).
 */
export async function* serializeModelInSlices(model: unknown, options: ModelSerializationOptions = {}): AsyncGenerator<Uint8Array[], void, undefined> {
  const encoder = new ModelEncoder(model, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, options.reusable);
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  while (!encoder.step(performance.now() + sliceMs)) {
    const full = encoder.fullChunks();
    if (full.length > 0) yield full;
    await nextTurn();
  }
  yield encoder.chunks();
}

export function deserializeModel(chunks: readonly Uint8Array[]): unknown {
  const decoder = new ModelDecoder(chunks);
  decoder.step(Infinity);
  return decoder.result();
}

/** Deserialises in slices into a new model, yielding to the event loop between them. */
export async function deserializeModelInSlices(chunks: readonly Uint8Array[], options: Pick<ModelSerializationOptions, 'sliceMs'> = {}): Promise<unknown> {
  const decoder = new ModelDecoder(chunks);
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  while (!decoder.step(performance.now() + sliceMs)) await nextTurn();
  return decoder.result();
}

/** Reads a snapshot saved before the chunked format: one V8-serialised buffer. */
export function deserializeLegacyModel(buffer: Uint8Array): unknown {
  // That format has no digest: damaged bytes show only here, and are a snapshot that cannot be
  // read (rebuilt from the log), as in the chunked format, not an error that stops start-up.
  try {
    return deserialize(buffer);
  } catch (error) {
    throw new SnapshotFormatError(`its bytes do not decode (${(error as Error).message})`);
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------
// Encoding

type EncodeFrame =
  | { kind: 'array'; value: unknown[]; index: number }
  | { kind: 'iterator'; entries: Iterator<unknown> }
  | { kind: 'map'; entries: Iterator<[unknown, unknown]>; value: unknown; hasValue: boolean }
  | { kind: 'object'; value: Record<string, unknown>; keys: string[]; index: number; columnLength: number }
  | { kind: 'bytes'; bytes: Uint8Array; offset: number };

class ModelEncoder {
  private readonly out: ChunkWriter;
  private readonly ids = new Map<object, number>();
  private readonly stack: EncodeFrame[] = [];
  private run: unknown[] = [];
  private pendingRoot = true;
  private done = false;
  /** Items (and bytes / 64) handled since the clock was last read. */
  private work = 0;

  constructor(
    private readonly root: unknown,
    chunkBytes: number,
    reusable?: Uint8Array[],
  ) {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, not ${chunkBytes}`);
    this.out = new ChunkWriter(chunkBytes, reusable);
    const magic = Buffer.from(FORMAT_MAGIC, 'latin1');
    this.record(TAG.format, Buffer.concat([magic, Buffer.from([MODEL_FORMAT_VERSION])]));
  }

  /** Works until done (true) or past the deadline (false). */
  step(deadline: number): boolean {
    if (this.done) return true;
    if (this.pendingRoot) {
      this.pendingRoot = false;
      this.item(this.root);
    }
    while (this.stack.length > 0) {
      // The clock is read every so much work, not every step: a step may be one number.
      if (this.work >= WORK_PER_CLOCK_READ) {
        this.work = 0;
        if (performance.now() >= deadline) return false;
      }
      this.advance(this.stack[this.stack.length - 1]!);
    }
    this.flushRun();
    this.record(TAG.end, EMPTY);
    this.done = true;
    return true;
  }

  /** The chunks not yet handed on: all of them once done. */
  chunks(): Uint8Array[] {
    if (!this.done) throw new Error('The model is not serialised yet');
    return this.out.finish();
  }

  /** The chunks filled since last asked, handed on while the work goes on. */
  fullChunks(): Uint8Array[] {
    return this.out.takeFull();
  }

  /** Emits the next item of the innermost open container, or closes it. */
  private advance(frame: EncodeFrame): void {
    switch (frame.kind) {
      case 'array': {
        const { value } = frame;
        // Most arrays of a model are columns of strings or numbers: take a run of them at once.
        const end = Math.min(value.length, frame.index + PRIMITIVE_RUN);
        let index = frame.index;
        for (let item = value[index]; index < end && isPrimitive(item); item = value[++index]) this.run.push(item);
        this.work += index - frame.index;
        frame.index = index;
        if (this.run.length >= PRIMITIVE_RUN) this.flushRun();
        if (frame.index >= value.length) this.stack.pop();
        else if (index < end) this.item(value[frame.index++]);
        return;
      }
      case 'iterator': {
        const next = frame.entries.next();
        if (next.done) this.stack.pop();
        else this.item(next.value);
        return;
      }
      case 'map': {
        if (frame.hasValue) {
          frame.hasValue = false;
          this.item(frame.value);
          return;
        }
        // Maps of a model mostly map strings to numbers: take a run of such entries at once.
        for (let taken = 0; taken < PRIMITIVE_RUN; taken += 2) {
          const next = frame.entries.next();
          if (next.done) {
            this.stack.pop();
            break;
          }
          const [key, value] = next.value;
          if (isPrimitive(key) && isPrimitive(value)) {
            this.run.push(key, value);
            this.work += 2;
            continue;
          }
          frame.value = value;
          frame.hasValue = true;
          this.item(key);
          return;
        }
        if (this.run.length >= PRIMITIVE_RUN) this.flushRun();
        return;
      }
      case 'object': {
        if (frame.index >= frame.keys.length) {
          this.stack.pop();
          return;
        }
        const value = frame.value[frame.keys[frame.index++]!];
        // A column `{ values, length }` keeps spare capacity past its length: only the rows count.
        if (frame.columnLength > 0 && isTypedArray(value) && value.length > frame.columnLength) this.item(value, value.subarray(0, frame.columnLength));
        else this.item(value);
        return;
      }
      case 'bytes': {
        const end = Math.min(frame.bytes.length, frame.offset + BYTES_PER_RECORD);
        this.record(TAG.bytes, frame.bytes.subarray(frame.offset, end));
        this.work += (end - frame.offset) >> 6;
        frame.offset = end;
        if (end === frame.bytes.length) this.stack.pop();
        return;
      }
      default: {
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  /** One item; `stored` is what to write for it when it differs (a column cut to its length). */
  private item(value: unknown, stored: unknown = value): void {
    this.work += 1;
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      this.run.push(value);
      if (this.run.length >= PRIMITIVE_RUN) this.flushRun();
      return;
    }
    if (typeof value === 'function') throw new TypeError('A read model cannot hold a function');
    this.flushRun();
    const known = this.ids.get(value);
    if (known !== undefined) {
      this.record(TAG.reference, u32(known));
      return;
    }
    this.ids.set(value, this.ids.size);
    if (isTypedArray(stored)) return this.typedArray(stored);
    if (value instanceof Date) return this.record(TAG.date, f64(value.getTime()));
    if (Array.isArray(value)) {
      this.record(TAG.array, u32(value.length));
      if (value.length > 0) this.stack.push({ kind: 'array', value, index: 0 });
      return;
    }
    if (value instanceof Map) {
      this.record(TAG.map, u32(value.size));
      if (value.size > 0) this.stack.push({ kind: 'map', entries: value.entries(), value: undefined, hasValue: false });
      return;
    }
    if (value instanceof Set) {
      this.record(TAG.set, u32(value.size));
      if (value.size > 0) this.stack.push({ kind: 'iterator', entries: value.values() });
      return;
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) throw new TypeError(`A read model cannot hold a ${value.constructor.name}`);
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const nullPrototype = Object.getPrototypeOf(record) === null;
    this.record(TAG.object, Buffer.concat([Buffer.from([nullPrototype ? 1 : 0]), Buffer.from(JSON.stringify(keys), 'utf8')]));
    const length = record.length;
    const columnLength = typeof length === 'number' && Number.isSafeInteger(length) && length > 0 ? length : 0;
    if (keys.length > 0) this.stack.push({ kind: 'object', value: record, keys, index: 0, columnLength });
  }

  private typedArray(array: TypedArray): void {
    const kind = TYPED_ARRAYS.findIndex((constructor) => array instanceof constructor);
    this.record(TAG.typed, Buffer.concat([Buffer.from([kind]), f64(array.length)]));
    if (array.byteLength > 0) this.stack.push({ kind: 'bytes', bytes: new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset: 0 });
  }

  private flushRun(): void {
    if (this.run.length === 0) return;
    this.record(TAG.primitives, serialize(this.run));
    this.run = [];
  }

  private record(tag: number, payload: Uint8Array): void {
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header[0] = tag;
    header.writeUInt32LE(payload.length, 1);
    this.out.write(header);
    this.out.write(payload);
  }
}

/** Collects bytes into chunks of at most chunkBytes, each with a buffer of its own (transferable). */
class ChunkWriter {
  private done: Uint8Array[] = [];
  private current: Buffer;
  private used = 0;

  constructor(
    private readonly chunkBytes: number,
    /** Whole chunks to fill again (ModelSerializationOptions.reusable). */
    private readonly reusable: Uint8Array[] = [],
  ) {
    this.current = Buffer.allocUnsafeSlow(Math.min(chunkBytes, 64 * 1024));
  }

  write(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.used === this.current.length) this.makeRoom();
      const n = Math.min(bytes.length - offset, this.current.length - this.used);
      this.current.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
  }

  /** The chunks filled so far, no longer kept here. */
  takeFull(): Uint8Array[] {
    const full = this.done;
    this.done = [];
    return full;
  }

  /** Every chunk not yet taken, the one being filled cut to its length. */
  finish(): Uint8Array[] {
    if (this.used > 0) {
      const last = Buffer.allocUnsafeSlow(this.used);
      this.current.copy(last, 0, 0, this.used);
      this.done.push(last);
      this.used = 0;
    }
    return this.takeFull();
  }

  // Grows the chunk by doubling up to chunkBytes, so a small model does not hold a large buffer
  // (unless a whole chunk is there to be filled again).
  private makeRoom(): void {
    if (this.current.length < this.chunkBytes) {
      const grown = this.spareChunk() ?? Buffer.allocUnsafeSlow(Math.min(this.chunkBytes, this.current.length * 2));
      this.current.copy(grown, 0, 0, this.used);
      this.current = grown;
      return;
    }
    this.done.push(this.current);
    // A save's written parts come back to be filled again: allocating a fresh megabyte per chunk
    // left tens of MB of spent ones waiting for the collector (external memory it runs late for).
    this.current = this.spareChunk() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
    this.used = 0;
  }

  /** A reusable chunk as a Buffer over its own memory, if one of the right size is there. */
  private spareChunk(): Buffer | undefined {
    for (let spare = this.reusable.pop(); spare; spare = this.reusable.pop()) {
      if (spare.byteOffset === 0 && spare.byteLength === this.chunkBytes && spare.buffer.byteLength === this.chunkBytes) return Buffer.from(spare.buffer, 0, this.chunkBytes);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

type DecodeFrame =
  | { kind: 'array'; value: unknown[]; index: number; count: number }
  | { kind: 'set'; value: Set<unknown>; index: number; count: number }
  | { kind: 'map'; value: Map<unknown, unknown>; index: number; count: number; key: unknown }
  | { kind: 'object'; value: Record<string, unknown>; index: number; count: number; keys: string[] };

class ModelDecoder {
  private readonly reader: ChunkReader;
  private readonly objects: unknown[] = [];
  private readonly stack: DecodeFrame[] = [];
  private root: unknown;
  private rootSet = false;
  private filling: { target: Uint8Array; offset: number } | undefined;
  private done = false;

  constructor(chunks: readonly Uint8Array[]) {
    this.reader = new ChunkReader(chunks);
    const { tag, payload } = this.reader.record();
    const magic = Buffer.from(payload.subarray(0, FORMAT_MAGIC.length)).toString('latin1');
    if (tag !== TAG.format || magic !== FORMAT_MAGIC) throw new SnapshotFormatError('it does not start with the format mark');
    const version = payload[FORMAT_MAGIC.length];
    if (version !== MODEL_FORMAT_VERSION) throw new SnapshotFormatError(`format version ${version} is not ${MODEL_FORMAT_VERSION} (saved by another version of Stagecraft)`);
  }

  step(deadline: number): boolean {
    try {
      while (!this.done) {
        this.next();
        if (performance.now() >= deadline) return this.done;
      }
      return true;
    } catch (error) {
      // Whatever bad bytes make V8 or an allocation throw is a snapshot that cannot be read.
      if (error instanceof SnapshotFormatError) throw error;
      throw new SnapshotFormatError(`its bytes do not decode (${(error as Error).message})`);
    }
  }

  result(): unknown {
    if (!this.done) throw new Error('The model is not deserialised yet');
    return this.root;
  }

  private next(): void {
    const { tag, payload } = this.reader.record();
    if (this.filling && tag !== TAG.bytes) throw new SnapshotFormatError('a typed array ends early');
    switch (tag) {
      case TAG.bytes: {
        const filling = this.filling;
        if (!filling || filling.offset + payload.length > filling.target.length) throw new SnapshotFormatError('bytes outside a typed array');
        filling.target.set(payload, filling.offset);
        filling.offset += payload.length;
        if (filling.offset === filling.target.length) this.filling = undefined;
        return;
      }
      case TAG.primitives: {
        const values = deserialize(payload) as unknown;
        if (!Array.isArray(values)) throw new SnapshotFormatError('a run of values is not a list');
        this.deliverRun(values);
        return;
      }
      case TAG.reference: {
        const id = readU32(payload);
        if (id >= this.objects.length) throw new SnapshotFormatError(`a reference to object ${id}, not yet read`);
        this.deliver(this.objects[id]);
        return;
      }
      case TAG.array: {
        const count = readU32(payload);
        const value: unknown[] = new Array(count);
        this.open(value, { kind: 'array', value, index: 0, count });
        return;
      }
      case TAG.map: {
        const count = readU32(payload);
        const value = new Map<unknown, unknown>();
        this.open(value, { kind: 'map', value, index: 0, count: count * 2, key: undefined });
        return;
      }
      case TAG.set: {
        const value = new Set<unknown>();
        this.open(value, { kind: 'set', value, index: 0, count: readU32(payload) });
        return;
      }
      case TAG.object: {
        const keys = JSON.parse(Buffer.from(payload.subarray(1)).toString('utf8')) as unknown;
        if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) throw new SnapshotFormatError('an object without a key list');
        const value: Record<string, unknown> = payload[0] === 1 ? (Object.create(null) as Record<string, unknown>) : {};
        this.open(value, { kind: 'object', value, index: 0, count: keys.length, keys });
        return;
      }
      case TAG.typed: {
        const constructor = TYPED_ARRAYS[payload[0]!];
        const length = readF64(payload, 1);
        if (!constructor || !Number.isSafeInteger(length) || length < 0) throw new SnapshotFormatError('a typed array of unknown kind or length');
        const value = new constructor(length);
        this.objects.push(value);
        this.deliver(value);
        if (value.byteLength > 0) this.filling = { target: new Uint8Array(value.buffer), offset: 0 };
        return;
      }
      case TAG.date: {
        const value = new Date(readF64(payload, 0));
        this.objects.push(value);
        this.deliver(value);
        return;
      }
      case TAG.end:
        if (!this.rootSet || this.findOpen() !== undefined) throw new SnapshotFormatError('it ends before the model does');
        if (!this.reader.atEnd()) throw new SnapshotFormatError('bytes follow its end');
        this.done = true;
        return;
      default:
        throw new SnapshotFormatError(`unknown record ${tag}`);
    }
  }

  private open(value: object, frame: DecodeFrame): void {
    this.objects.push(value);
    this.deliver(value);
    if (frame.count > 0) this.stack.push(frame);
  }

  /** Hands a value to the innermost open container (or makes it the root), closing full ones. */
  private deliver(value: unknown): void {
    const frame = this.stack.length > 0 ? this.findOpen() : undefined;
    if (!frame) {
      if (this.rootSet) throw new SnapshotFormatError('a second root value');
      this.root = value;
      this.rootSet = true;
      return;
    }
    switch (frame.kind) {
      case 'array':
        frame.value[frame.index] = value;
        break;
      case 'set':
        frame.value.add(value);
        break;
      case 'map':
        if (frame.index % 2 === 0) frame.key = value;
        else frame.value.set(frame.key, value);
        break;
      case 'object':
        frame.value[frame.keys[frame.index]!] = value;
        break;
      default: {
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
    frame.index += 1;
  }

  /** A run of primitives: as many as the innermost container takes in one tight loop, then the next. */
  private deliverRun(values: unknown[]): void {
    let index = 0;
    while (index < values.length) {
      const frame = this.stack.length > 0 ? this.findOpen() : undefined;
      if (!frame) {
        this.deliver(values[index++]);
        continue;
      }
      const end = Math.min(values.length, index + (frame.count - frame.index));
      switch (frame.kind) {
        case 'array': {
          const target = frame.value;
          let at = frame.index;
          while (index < end) target[at++] = values[index++];
          frame.index = at;
          break;
        }
        case 'map':
          for (; index < end; index++, frame.index++) {
            if (frame.index % 2 === 0) frame.key = values[index];
            else frame.value.set(frame.key, values[index]);
          }
          break;
        case 'set':
          for (; index < end; index++, frame.index++) frame.value.add(values[index]);
          break;
        case 'object':
          for (; index < end; index++, frame.index++) frame.value[frame.keys[frame.index]!] = values[index];
          break;
        default: {
          const _exhaustive: never = frame;
          return _exhaustive;
        }
      }
    }
  }

  // A container just opened sits on top of its parent, which may have received its last item
  // (that container): full frames below the top are closed once the top one closes.
  private findOpen(): DecodeFrame | undefined {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top || top.index < top.count) return top;
      this.stack.pop();
    }
  }
}

/** Reads records across chunk boundaries; a payload split between chunks is copied together. */
class ChunkReader {
  private index = 0;
  private offset = 0;

  constructor(private readonly chunks: readonly Uint8Array[]) {}

  record(): { tag: number; payload: Uint8Array } {
    const header = this.take(HEADER_BYTES);
    const length = header[1]! | (header[2]! << 8) | (header[3]! << 16) | (header[4]! * 2 ** 24);
    return { tag: header[0]!, payload: this.take(length) };
  }

  atEnd(): boolean {
    this.skipEmpty();
    return this.index >= this.chunks.length;
  }

  private take(length: number): Uint8Array {
    this.skipEmpty();
    const chunk = this.chunks[this.index];
    if (chunk && this.offset + length <= chunk.length) {
      const bytes = chunk.subarray(this.offset, this.offset + length);
      this.offset += length;
      return bytes;
    }
    const joined = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      this.skipEmpty();
      const current = this.chunks[this.index];
      if (!current) throw new SnapshotFormatError('it is cut short');
      const n = Math.min(length - filled, current.length - this.offset);
      joined.set(current.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.offset += n;
    }
    return joined;
  }

  private skipEmpty(): void {
    while (this.index < this.chunks.length && this.offset >= this.chunks[this.index]!.length) {
      this.index += 1;
      this.offset = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

function u32(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(4);
  buffer.writeUInt32LE(value, 0);
  return buffer;
}

function f64(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(8);
  buffer.writeDoubleLE(value, 0);
  return buffer;
}

function readU32(payload: Uint8Array): number {
  if (payload.length !== 4) throw new SnapshotFormatError('a count of the wrong size');
  return Buffer.from(payload.buffer, payload.byteOffset, 4).readUInt32LE(0);
}

function readF64(payload: Uint8Array, offset: number): number {
  if (payload.length !== offset + 8) throw new SnapshotFormatError('a number of the wrong size');
  return Buffer.from(payload.buffer, payload.byteOffset, payload.length).readDoubleLE(offset);
}

/** A value V8 serialises by value; symbols are refused here, as V8 refuses them. */
function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  if (type === 'symbol') throw new TypeError('A read model cannot hold a symbol');
  return value === null || (type !== 'object' && type !== 'function');
}

function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}
