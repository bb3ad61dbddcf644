import { DatabaseError } from 'pg';
import { CannotConnectAlreadyConnectedError, QueryFailedError } from 'typeorm';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { classifyDependencyFailure } from './dependency-failure';

/** A Node socket error as `net` raises it (errno, code, syscall, address, port). */
function socketError(code: string, port?: number): Error {
  const e = new Error(`connect ${code} 127.0.0.1:${port ?? 0}`) as Error & Record<string, unknown>;
  Object.assign(e, { code, syscall: 'connect', address: '127.0.0.1', ...(port === undefined ? {} : { port }) });
  return e;
}

function pgError(code: string): DatabaseError {
  const e = new DatabaseError('server says no', 0, 'error');
  e.code = code;
  return e;
}

const endpoints = { postgresPort: 5432, redisPort: 6379 };

describe('classifyDependencyFailure', () => {
  it.each(['08000', '08001', '08003', '08006', '08P01', '57P01', '57P02', '57P03', '53300'])('pg SQLSTATE %s is postgres', (code) => {
    expect(classifyDependencyFailure(pgError(code), endpoints)).toBe('postgres');
  });

  it.each(['23505', '22P02', '40P01', '57014', '42P01', '53100'])('pg SQLSTATE %s is not an outage', (code) => {
    expect(classifyDependencyFailure(pgError(code), endpoints)).toBeNull();
  });

  it('unwraps TypeORM QueryFailedError.driverError', () => {
    const wrapped = new QueryFailedError('SELECT 1', [], pgError('57P01'));
    expect(classifyDependencyFailure(wrapped, endpoints)).toBe('postgres');
    const terminated = new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly'));
    expect(classifyDependencyFailure(terminated, endpoints)).toBe('postgres');
    expect(classifyDependencyFailure(new QueryFailedError('SELECT 1', [], pgError('23505')), endpoints)).toBeNull();
  });

  it('node-postgres connection messages are postgres', () => {
    for (const message of [
      'Connection terminated',
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(classifyDependencyFailure(new Error(message), endpoints)).toBe('postgres');
    }
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])('socket error %s goes to the dependency of its port', (code) => {
    expect(classifyDependencyFailure(socketError(code, 5432), endpoints)).toBe('postgres');
    expect(classifyDependencyFailure(socketError(code, 6379), endpoints)).toBe('redis');
    expect(classifyDependencyFailure(socketError(code), endpoints)).toBe('postgres');
  });

  it('unwraps cause and AggregateError (happy eyeballs connects to several addresses)', () => {
    const aggregate = new AggregateError([socketError('ECONNREFUSED', 6379), socketError('ECONNREFUSED', 6379)], 'connect failed');
    expect(classifyDependencyFailure(aggregate, endpoints)).toBe('redis');
    expect(classifyDependencyFailure(new Error('outer', { cause: new Error('timeout exceeded when trying to connect') }), endpoints)).toBe('postgres');
  });

  it('ioredis and BullMQ errors are redis', () => {
    expect(classifyDependencyFailure(new MaxRetriesPerRequestError(1), endpoints)).toBe('redis');
    expect(classifyDependencyFailure(new Error('Connection is closed.'), endpoints)).toBe('redis');
    expect(classifyDependencyFailure(new Error("Stream isn't writeable and enableOfflineQueue options is false"), endpoints)).toBe('redis');
    const ioredisTimeout = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'connect' });
    expect(classifyDependencyFailure(ioredisTimeout, endpoints)).toBe('redis');
  });

  it('anything else is not a dependency failure', () => {
    expect(classifyDependencyFailure(new CannotConnectAlreadyConnectedError('default'), endpoints)).toBeNull();
    expect(classifyDependencyFailure(new Error('boom'), endpoints)).toBeNull();
    expect(classifyDependencyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"), endpoints)).toBeNull();
    expect(classifyDependencyFailure(undefined)).toBeNull();
    expect(classifyDependencyFailure('ECONNREFUSED')).toBeNull();
    expect(classifyDependencyFailure({ code: 'EACCES' })).toBeNull();
  });

  it('does not loop on a self-referencing cause', () => {
    const e = new Error('loop') as Error & { cause?: unknown };
    e.cause = e;
    expect(classifyDependencyFailure(e)).toBeNull();
  });
});
