import { PROCESS_VERSION_RECORDED, processVersionOf, toProcessStreamId, type ProcessDefinition } from '@stagecraft/sales-process';
import type { StoredEventLike } from './stored-event-like';

// A process version is the hash of its definition (processVersionOf), and every opportunity names
// the version it runs on in its own chained events. So a recorded definition vouches for itself:
// one rewritten and re-chained (every hash of its stream recomputed, which its chain alone cannot
// see) no longer hashes to the version it is recorded as, and the opportunities judged by it name.

/** Why a ProcessVersionRecorded event's definition is not the version it claims; undefined when it is (or for any other event). */
export function recordedDefinitionMismatch(event: StoredEventLike): string | undefined {
  if (event.type !== PROCESS_VERSION_RECORDED) return undefined;
  const { version, definition } = event.data;
  if (typeof version !== 'string' || definition === null || typeof definition !== 'object') {
    return `the event records no version and definition (version ${JSON.stringify(version)}): it was rewritten, and its hash recomputed`;
  }
  // The process it is a version of is its definition's id (hashed into the version): the process
  // id beside it and the stream it stands in are not, so a rewrite of either, re-chained, is seen here.
  const { id } = definition as { id?: unknown };
  if (event.data.processId !== id) {
    return `the event in ${event.stream} records process ${JSON.stringify(event.data.processId)}, while its definition is process ${JSON.stringify(id)}: it was rewritten after it was recorded (its hash recomputed)`;
  }
  if (event.stream !== toProcessStreamId(String(id))) {
    return `the event in ${event.stream} records a version of process ${JSON.stringify(id)}, whose stream is ${toProcessStreamId(String(id))}: it was moved there after it was recorded (its hash recomputed)`;
  }
  const actual = processVersionOf(definition as ProcessDefinition);
  if (actual === version) return undefined;
  return `the definition recorded as version ${version} hashes to ${actual}: it was rewritten after it was recorded (its hash recomputed), so the opportunities that ran on ${version} would be judged by rules they never ran on`;
}
