import { isLostConnection } from '../../sources/connection-lost';

describe('a lost source connection, told from a query error', () => {
  test('the server ending the session or the socket breaking is a lost connection', () => {
    expect(isLostConnection({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(true);
    expect(isLostConnection({ code: '08006', message: 'connection failure' })).toBe(true);
    expect(isLostConnection({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toBe(true);
    expect(isLostConnection({ code: 'PROTOCOL_CONNECTION_LOST', message: 'Connection lost: The server closed the connection.' })).toBe(true);
    expect(isLostConnection(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  test('a wrong query or a missing table is not', () => {
    expect(isLostConnection({ code: '42P01', message: 'relation "x" does not exist' })).toBe(false);
    expect(isLostConnection({ code: 'ER_NO_SUCH_TABLE', message: "Table 'db.x' doesn't exist" })).toBe(false);
    expect(isLostConnection(undefined)).toBe(false);
  });
});
