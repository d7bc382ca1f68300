/** A table as it lands in BigQuery, with the config entry (or discovery) it comes from. */
export interface Landing {
  /** `source.table`. */
  key: string;
  /** Where it comes from, as the operator finds it: `sources.shop.tables "orders"`. */
  entry: string;
  dataset: string;
  destination: string;
}

export interface DestinationConflict {
  /** The later of the two entries: the one that fails (at plan time) or is reported. */
  landing: Landing;
  /** The entry that lands in the same table first. */
  first: Landing;
  message: string;
}

/**
 * Tables that would land in the same BigQuery table: two sources with one dataset and a
 * table of the same name, or two names that `naming` (case, prefix) or a `destination:` makes
 * equal. Each would overwrite the other's rows, so each pair is named, first entry first.
 */
export function destinationConflicts(landings: Landing[]): DestinationConflict[] {
  const first = new Map<string, Landing>();
  const conflicts: DestinationConflict[] = [];
  for (const l of landings) {
    const table = `${l.dataset}.${l.destination}`;
    const earlier = first.get(table);
    if (!earlier) {
      first.set(table, l);
      continue;
    }
    if (earlier.key === l.key) continue;
    conflicts.push({
      landing: l,
      first: earlier,
      message:
        `${l.entry} and ${earlier.entry} both land in BigQuery table ${table}, so each would overwrite the other; ` +
        `give one of them a destination: (or its source another dataset:)`,
    });
  }
  return conflicts;
}
