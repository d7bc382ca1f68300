const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as the config writes it ("30s", "15m", "6h", "1d") in milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration such as "30s", "15m", "6h" or "1d"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}
