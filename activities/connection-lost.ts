/**
 * A source connection that broke while a table was read: killed by an administrator, the
 * server restarted, the network cut. Transient: the retry reads the table again from a
 * new connection; the message says what happened, for the operator reading the log.
 */
export class SourceConnectionLost extends Error {
  constructor(
    readonly table: string,
    readonly reason: string,
  ) {
    super(`the connection to the database was lost while reading table ${table}: ${reason}`);
    this.name = 'SourceConnectionLost';
  }
}
