// Which server the double plays: KURRENTDB_DOUBLE_MODE=22.10|23.10|24.10|25.1 (default the newest).
// Each switch below is read from the server's source; SERVER-BEHAVIOUR.md says where (§ numbers).

export const DOUBLE_MODES = ['22.10', '23.10', '24.10', '25.1'] as const;
export type DoubleMode = (typeof DOUBLE_MODES)[number];
export const NEWEST_MODE: DoubleMode = '25.1';

export interface ServerBehaviour {
  readonly mode: DoubleMode;
  /** What ServerFeatures.GetSupportedMethods reports as the server version. */
  readonly version: string;
  /**
   * The $all subscription's implementation (§5): 'pre-24.2' starts by reading one record at or
   * after the position and continuing after it, goes live once, and drops a consumer too slow for
   * its live buffer; 'since-24.2' skips events at or before the checkpoint, falls behind and catches
   * up again when its live buffer overflows (repeating caughtUp), and checkpoints at the end of every catch-up.
   */
  readonly subscriptions: 'pre-24.2' | 'since-24.2';
  /** The CaughtUp message (§5.2): none (22.10), empty (23.10 to 24.10.4, 25.0.0), with its position (24.10.5+, 25.0.1+). */
  readonly caughtUp: 'none' | 'empty' | 'with-position';
  /** MaxAppendSize (§6.1): the largest append in bytes. */
  readonly maxAppendSize: number;
  /** MaxAppendEventSize (§6.1): the largest event in bytes, when the version has the setting. */
  readonly maxAppendEventSize?: number;
  /** Event.SizeOnDisk (§6.2): before 24.10.4 an operator-precedence slip counts only the data bytes. */
  readonly sizeCounts: 'data' | 'data+metadata+type';
}

const MIB = 1024 * 1024;
/** TFConsts.EffectiveMaxLogRecordSize: no record may be larger, in any version (§6.2). */
export const EFFECTIVE_MAX_LOG_RECORD_SIZE = 16 * MIB - 10_000;

const BEHAVIOURS: Record<DoubleMode, ServerBehaviour> = {
  '22.10': { mode: '22.10', version: '22.10.5', subscriptions: 'pre-24.2', caughtUp: 'none', maxAppendSize: MIB, sizeCounts: 'data' },
  '23.10': { mode: '23.10', version: '23.10.8', subscriptions: 'pre-24.2', caughtUp: 'empty', maxAppendSize: MIB, sizeCounts: 'data' },
  '24.10': { mode: '24.10', version: '24.10.14', subscriptions: 'since-24.2', caughtUp: 'with-position', maxAppendSize: MIB, maxAppendEventSize: 2 ** 31 - 1, sizeCounts: 'data+metadata+type' },
  '25.1': { mode: '25.1', version: '25.1.4', subscriptions: 'since-24.2', caughtUp: 'with-position', maxAppendSize: 256 * MIB, maxAppendEventSize: 16 * MIB, sizeCounts: 'data+metadata+type' },
};

export function behaviourOf(mode: DoubleMode): ServerBehaviour {
  return BEHAVIOURS[mode];
}

/** The mode KURRENTDB_DOUBLE_MODE names, the newest when unset; anything else stops with a message. */
export function modeFromEnvironment(value = process.env.KURRENTDB_DOUBLE_MODE): DoubleMode {
  if (value === undefined || value === '') return NEWEST_MODE;
  if ((DOUBLE_MODES as readonly string[]).includes(value)) return value as DoubleMode;
  throw new Error(`KURRENTDB_DOUBLE_MODE must be one of ${DOUBLE_MODES.join(', ')} (got "${value}")`);
}

/** Event.SizeOnDisk as the mode's server computes it. */
export function sizeOnDisk(behaviour: ServerBehaviour, event: { type: string; data: Uint8Array; customMetadata: Uint8Array }): number {
  // .NET strings are UTF-16: the server counts 2 bytes per character of the type.
  return behaviour.sizeCounts === 'data' ? event.data.length : event.data.length + event.customMetadata.length + event.type.length * 2;
}
