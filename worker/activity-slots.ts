/**
 * What an operator should hear about a worker's activity slots. A table read in block ranges
 * holds one activity (the session keeping the shared snapshot) for as long as its ranges
 * read, and each range is an activity of its own: a worker of one slot that takes the holder
 * leaves its ranges to other workers, and alone it would wait for them forever.
 */
export function activitySlotsWarning(maxActivities: number | undefined): string | undefined {
  if (maxActivities === undefined || maxActivities >= 2) return undefined;
  return (
    `--max-activities ${maxActivities}: a table read in block ranges (PostgreSQL, no integer key, parallelRanges above 1) ` +
    'holds one activity for its snapshot while its ranges need others, so with this worker alone such a table would wait forever; ' +
    'give it 2 or more, or run other workers beside it'
  );
}
