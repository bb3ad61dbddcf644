/** A backing service the API cannot answer without. */
export type Dependency = 'postgres' | 'redis';

/** Where the dependencies listen, to tell a bare socket error of one from the other by its port. */
export interface DependencyEndpoints {
  postgresPort?: number;
  redisPort?: number;
}

/**
 * SQLSTATE codes that mean "the server is not there for you right now", not "your query is wrong":
 * class 08 (connection exception) as a prefix, and admin_shutdown, crash_shutdown,
 * cannot_connect_now, too_many_connections (PostgreSQL manual, appendix A "Error Codes").
 */
const PG_UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Node socket error codes that mean the peer could not be reached or went away. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * Messages of node-postgres (pg 8 `client.js`, pg-pool `index.js`) when the connection is refused,
 * dropped or never established: "Connection terminated", "Connection terminated unexpectedly",
 * "Connection terminated due to connection timeout", "timeout exceeded when trying to connect"
 * (the pool's `connectionTimeoutMillis`), and a client that already saw a connection error.
 */
const PG_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect/, /not queryable/];

/**
 * Messages of ioredis 5 (and BullMQ, which passes them on) while Redis is unreachable:
 * "Connection is closed." (`CONNECTION_CLOSED_ERROR_MSG`), the offline-queue refusal "Stream isn't
 * writeable and enableOfflineQueue options is false", "Reached the max retries per request limit"
 * (MaxRetriesPerRequestError), and ioredis' own connect timeout "connect ETIMEDOUT" (Node's own
 * message names the address, ioredis' does not).
 */
const REDIS_MESSAGES = [/^Connection is closed\.?$/, /^Stream isn't writeable/, /max retries per request limit/, /^connect ETIMEDOUT$/];
const REDIS_ERROR_NAMES = new Set(['MaxRetriesPerRequestError']);

type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; port?: unknown; syscall?: unknown };

/** The error and everything it wraps: TypeORM's `driverError`, `cause`, AggregateError's `errors`. */
function chain(err: unknown, depth = 0): ErrorLike[] {
  if (err === null || typeof err !== 'object' || depth > 5) return [];
  const e = err as ErrorLike & { driverError?: unknown; cause?: unknown; errors?: unknown };
  const nested = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return [e, ...nested.flatMap((n) => chain(n, depth + 1))];
}

function classifyOne(e: ErrorLike, endpoints: DependencyEndpoints): Dependency | null {
  const message = typeof e.message === 'string' ? e.message : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (REDIS_ERROR_NAMES.has(name) || REDIS_MESSAGES.some((m) => m.test(message))) return 'redis';
  // TypeORM's "already connected" is a programming error, not an outage.
  if (name === 'CannotConnectAlreadyConnectedError') return null;
  if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || PG_UNAVAILABLE_STATES.has(code))) return 'postgres';
  if (PG_MESSAGES.some((m) => m.test(message))) return 'postgres';
  if (SOCKET_CODES.has(code)) {
    if (typeof e.port === 'number' && e.port === endpoints.redisPort) return 'redis';
    // ioredis never rejects a command with a bare socket error (it answers with the messages above),
    // so a bare one without Redis' port comes from the pg pool's connect.
    return 'postgres';
  }
  return null;
}

/**
 * Tells whether `err` (anything a request handler threw) means that PostgreSQL or Redis is
 * unreachable, and which: pg errors with SQLSTATE class 08, 57P01, 57P02, 57P03 or 53300; Node
 * socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND, …), attributed to
 * Redis when their `port` is `endpoints.redisPort`; node-postgres' connection messages (including
 * the pool's connect timeout); ioredis/BullMQ's closed-connection, offline-queue and
 * max-retries errors. Wrapped errors are unwrapped (TypeORM `QueryFailedError.driverError`,
 * `cause`, `AggregateError.errors`). Pure: no I/O.
 * @returns the dependency that is down, or null when `err` is something else.
 */
export function classifyDependencyFailure(err: unknown, endpoints: DependencyEndpoints = {}): Dependency | null {
  for (const e of chain(err)) {
    const dependency = classifyOne(e, endpoints);
    if (dependency) return dependency;
    if (e.name === 'CannotConnectAlreadyConnectedError') return null;
  }
  return null;
}
