import type { ProcessDefinition } from './process-definition.types';

// Each process keeps its recorded versions in its own stream, `sales-process-<processId>`; the
// API writes them and the projections read them, so the names live here, once.
export const PROCESS_STREAM_PREFIX = 'sales-process-';
export const PROCESS_VERSION_RECORDED = 'ProcessVersionRecorded';

export function toProcessStreamId(processId: string): string {
  return `${PROCESS_STREAM_PREFIX}${processId}`;
}

/** Data of a ProcessVersionRecorded event. */
export interface ProcessVersionRecordedData {
  readonly processId: string;
  readonly version: string;
  readonly definition: ProcessDefinition;
  /** The file it was loaded from, for people reading the history. */
  readonly source: string;
}
