const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size setting in bytes: `5000000000`, `5GB` or `4.5GiB`; an error that names the setting otherwise. */
export function parseByteSize(text: string, setting: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new Error(`${setting} "${text}" is not a size: write bytes (5000000000) or a number with KB, MB, GB, TB, KiB, MiB, GiB or TiB`);
  }
  return Math.floor(Number(m[1]) * unit);
}
