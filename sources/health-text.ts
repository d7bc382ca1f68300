/** A number of seconds as an operator reads it: 45s, 12 min, 3.5 h. */
export function secondsText(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/** Replica lag above this is reported: the nightly read would copy data this old. */
export const LAG_WARN_SECONDS = 300;
