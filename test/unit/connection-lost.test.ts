import { DRIVERS } from '../../sources/registry';

const { mysql, postgres } = DRIVERS;

describe('a lost source connection, told from a query error', () => {
  test('the server ending the session or the socket breaking is a lost connection', () => {
    expect(postgres.classifyError({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe('lost-connection');
    expect(postgres.classifyError({ code: '08006', message: 'connection failure' })).toBe('lost-connection');
    expect(postgres.classifyError({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toBe('lost-connection');
    expect(mysql.classifyError({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toBe('lost-connection');
    expect(mysql.classifyError({ code: 'PROTOCOL_CONNECTION_LOST', message: 'Connection lost: The server closed the connection.' })).toBe('lost-connection');
    expect(postgres.classifyError(new Error('Connection terminated unexpectedly'))).toBe('lost-connection');
  });

  test('a wrong query or a missing table is not', () => {
    expect(postgres.classifyError({ code: '42P01', message: 'relation "x" does not exist' })).toBe('data');
    expect(mysql.classifyError({ code: 'ER_NO_SUCH_TABLE', message: "Table 'db.x' doesn't exist" })).toBe('data');
    expect(mysql.classifyError(undefined)).toBe('other');
    expect(postgres.classifyError(undefined)).toBe('other');
  });

  test('a refused login or a missing database is for a person to fix', () => {
    expect(postgres.classifyError({ code: '28P01', message: 'password authentication failed' })).toBe('auth');
    expect(postgres.classifyError({ code: '3D000', message: 'database "x" does not exist' })).toBe('auth');
    expect(mysql.classifyError({ code: 'ER_ACCESS_DENIED_ERROR', message: 'Access denied' })).toBe('auth');
  });
});
