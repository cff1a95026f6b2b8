// Durations are strings at the edges ('150ms', '20m', '7d') and millisecond numbers inside.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export const DURATION_FORM = 'a number with a unit: ms, s, m, h or d (e.g. 500ms, 30s, 20m, 7d)';

/** Parses '20m' into 1_200_000; returns undefined for anything not in DURATION_FORM. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Math.round(Number(amount) * UNIT_MS[unit]);
}
