import type { ProcessDefinition } from '@stagecraft/sales-process';

// Each process keeps its versions in its own stream; the event is a fact about configuration.
export const PROCESS_STREAM_PREFIX = 'sales-process-';
export const PROCESS_VERSION_RECORDED = 'ProcessVersionRecorded';

export function toProcessStreamId(processId: string): string {
  return `${PROCESS_STREAM_PREFIX}${processId}`;
}

export interface ProcessVersionRecordedData {
  readonly processId: string;
  readonly version: string;
  readonly definition: ProcessDefinition;
  /** The file it was loaded from, for people reading the history. */
  readonly source: string;
}
