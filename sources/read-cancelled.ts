/**
 * The database cancelled a table's read on purpose, not by fault: a hot standby's recovery
 * conflict, or a timeout of the role or database. Transient: a retry reads the table again
 * (often after the primary's VACUUM has passed); `fix` names the setting to change when it
 * repeats. `shorterReads`: reading the table in smaller key ranges would help too.
 */
export class SourceReadCancelled extends Error {
  constructor(
    readonly table: string,
    readonly reason: string,
    readonly fix: string,
    readonly shorterReads: boolean,
  ) {
    super(`the database cancelled the read of table ${table} (${reason}); ${fix}`);
    this.name = 'SourceReadCancelled';
  }
}
