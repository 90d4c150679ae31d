import { SingleBar } from 'cli-progress';

export interface Progress {
  update(value: number, total?: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/** Bars drawing now: a command that fails half-way leaves its bar unstopped, and runCli stops it. */
const drawing = new Set<SingleBar>();

/**
 * Stops every bar still drawing, which gives the terminal back its cursor and line wrapping (a bar
 * turns both off while it draws) and ends the bar's line, so a message printed next stands apart.
 */
export function stopProgressBars(): void {
  for (const bar of drawing) bar.stop();
  drawing.clear();
}

/**
 * A progress bar on stderr, only when stderr is a terminal: piped or redirected output stays
 * clean and parseable (stdout never carries the bar).
 */
export function progressBar(label: string, total: number, unit: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return SILENT;
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 10,
  });
  bar.start(Math.max(total, 1), 0);
  drawing.add(bar);
  return {
    update: (value, newTotal) => {
      if (newTotal !== undefined) bar.setTotal(Math.max(newTotal, 1));
      bar.update(value);
    },
    stop: () => {
      if (drawing.delete(bar)) bar.stop();
    },
  };
}
