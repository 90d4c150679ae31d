import { deserialize, serialize } from 'node:v8';

/**
 * Serialises a read model for a snapshot. Models keep growable typed-array columns shaped
 * `{ …arrays, length }` whose spare capacity can be half their size; V8 would write every byte of
 * it. Here each typed array that sits beside a positive `length` is cut to that length (a copy:
 * the live model keeps its capacity). A loaded model grows again on its next push.
 */
export function serializeModel(model: unknown): Buffer {
  return serialize(trimmed(model));
}

export function deserializeModel(buffer: Buffer): unknown {
  return deserialize(buffer);
}

// Copies the object graph once per object (shared and cyclic references stay shared, as V8
// would keep them), cutting column arrays to their length on the way.
function trimmed(value: unknown, copies = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (value instanceof Set) return value;
  if (value instanceof Map) {
    if (![...value.values()].some(isObject)) return value; // primitives only: nothing to trim
    const copy = new Map();
    copies.set(value, copy);
    for (const [key, entry] of value) copy.set(key, trimmed(entry, copies));
    return copy;
  }
  if (Array.isArray(value)) {
    if (!value.some(isObject)) return value;
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const entry of value) copy.push(trimmed(entry, copies));
    return copy;
  }
  const record = value as Record<string, unknown>;
  const length = typeof record.length === 'number' && record.length > 0 ? record.length : undefined;
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const [key, entry] of Object.entries(record)) {
    copy[key] = length !== undefined && isTypedArray(entry) && entry.length > length ? entry.slice(0, length) : trimmed(entry, copies);
  }
  return copy;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

type TypedArray = Int32Array | Float64Array | Uint8Array | Uint32Array | Int8Array | Int16Array | Uint16Array | Float32Array;

function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}
