import os from 'node:os';

/** The machine's 1, 5 and 15 minute load averages: printed beside figures, which move with the machine's load. */
export const loadAverage = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** A target and whether this run met it. */
export type Check = [label: string, ok: boolean];

/** Prints every target as met or MISSED; the bench exits 1 unless there were targets and every one was met. */
export function reportTargets(checks: readonly Check[]): void {
  for (const [label, ok] of checks) console.log(`  ${ok ? 'met   ' : 'MISSED'} ${label}`);
  process.exitCode = checks.length > 0 && checks.every(([, ok]) => ok) ? 0 : 1;
}
