import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/**
 * Every environment variable PilotLab reads, declared once with its default. Boot fails on a bad
 * value (house style: immich `env.dto.ts`). `.env.example` lists the same names.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString()
  DB_HOST = '127.0.0.1';

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  DB_PORT = 5432;

  @IsString()
  DB_USER = 'postgres';

  @IsString()
  DB_PASSWORD = '';

  @IsString()
  DB_NAME = 'pilotlab';

  /**
   * The pg pool gives up opening a connection after this long (`connectionTimeoutMillis`), so a
   * request fails with 503 DEPENDENCY_UNAVAILABLE instead of hanging while PostgreSQL is unreachable.
   */
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000)
  DB_CONNECT_TIMEOUT_MS = 5_000;

  /**
   * Size of each process's pg pool (`extra.max`). A request that finds every connection busy waits
   * for one; keep (API processes + workers) × DB_POOL_MAX below PostgreSQL's max_connections.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(500)
  DB_POOL_MAX = 10;

  @IsString()
  REDIS_HOST = '127.0.0.1';

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  REDIS_PORT = 6379;

  /** Prefix of every BullMQ key, so test runs and environments sharing one Redis stay apart. */
  @IsString()
  QUEUE_PREFIX = 'pilotlab';

  /** Comma-separated queues this worker process consumes (twenty's queue-worker pattern). */
  @IsString()
  WORKER_QUEUES = 'ingestion,analysis,rollups,governance,power';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Largest JSON request body accepted (express body-parser syntax). */
  @IsString()
  BODY_LIMIT = '60mb';

  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  BATCH_MAX_ROWS = 50_000;

  /**
   * The organisation's default currency (ISO 4217): the currency of an opportunity row without a
   * currency, and a pilot's reporting currency unless it names one (docs/kpis.md, "Currencies").
   */
  @IsIn(Intl.supportedValuesOf('currency'))
  DEFAULT_CURRENCY = 'USD';

  /** Largest streamed CSV upload (rows). */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  CSV_MAX_ROWS = 5_000_000;

  /** A producer gives up on Redis after this long; the batch stays in Postgres and is enqueued later. */
  @Transform(toInt) @IsInt() @Min(100) @Max(60_000)
  ENQUEUE_TIMEOUT_MS = 2_000;

  /** How often the API re-enqueues batches and reports that are persisted but not yet queued. */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000)
  REQUEUE_INTERVAL_MS = 15_000;

  /** Work queued or processing for longer than this is enqueued again (Redis may have lost it). */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(86_400_000)
  REQUEUE_STALE_MS = 600_000;

  /** Randomization inference: enumerate exactly up to this many assignments, else Monte Carlo. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000)
  RI_MAX_EXACT = 100_000;

  @Transform(toInt) @IsInt() @Min(99) @Max(1_000_000)
  RI_DRAWS = 10_000;

  /** Uploads are refused (429, Retry-After) while the ingestion queue holds more jobs than this. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  QUEUE_MAX_DEPTH = 1_000;

  /** Seconds a client is told to wait (Retry-After) when the queue is full. */
  @Transform(toInt) @IsInt() @Min(1) @Max(3_600)
  QUEUE_RETRY_AFTER_S = 30;

  /** Seconds a client is told to wait (Retry-After) on 503 DEPENDENCY_UNAVAILABLE (PostgreSQL or Redis down). */
  @Transform(toInt) @IsInt() @Min(1) @Max(3_600)
  DEPENDENCY_RETRY_AFTER_S = 5;

  /** The worker answers GET /health on this port (PostgreSQL and Redis, 200 or 503); 0 = no endpoint. */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  WORKER_HEALTH_PORT = 0;

  /**
   * Scheduling priority (nice value, -20..19) the worker process gives itself at start-up
   * (`os.setPriority`); 0 = unchanged. A positive value lets an API sharing the worker's cores
   * answer first while the worker computes reports or ingests batches (docs/performance.md).
   * Negative values need privileges; a refused change is logged, not fatal.
   */
  @Transform(toInt) @IsInt() @Min(-20) @Max(19)
  WORKER_NICE = 0;

  /** A pilot's rollup refresh runs this long after the last batch that touched it (debounce). */
  @Transform(toInt) @IsInt() @Min(0) @Max(3_600_000)
  ROLLUP_DEBOUNCE_MS = 2_000;

  /** Every running pilot's rollups are also refreshed on this schedule (repeatable job). */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(86_400_000)
  ROLLUP_REFRESH_MS = 300_000;

  @IsOptional() @IsString()
  DATA_DIR?: string;

  /**
   * The bootstrap admin API key (at least 24 characters), registered at API start. The API refuses
   * to start without it when NODE_ENV=production (workers and migrations do not need it); in
   * development no bootstrap key exists then (the demo sets a documented local default).
   */
  @IsOptional() @IsString() @MinLength(24)
  BOOTSTRAP_ADMIN_KEY?: string;

  /** Requests per API key (or per client IP without a key) within RATE_LIMIT_TTL_MS; then 429. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  RATE_LIMIT_LIMIT = 1_200;

  @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000)
  RATE_LIMIT_TTL_MS = 60_000;

  /**
   * Failed authentications (no key, unknown or revoked key) per client address within
   * AUTH_FAILURE_TTL_MS; then every request from that address gets 429 until the window ends.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  AUTH_FAILURE_LIMIT = 20;

  /** Failed authentications over all addresses within AUTH_FAILURE_TTL_MS; beyond it they get 429, not 401. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000)
  AUTH_FAILURE_GLOBAL_LIMIT = 1_000;

  @Transform(toInt) @IsInt() @Min(1_000) @Max(86_400_000)
  AUTH_FAILURE_TTL_MS = 300_000;

  /**
   * Express `trust proxy`: which proxies' X-Forwarded-For names the client address the limits count
   * per. Empty (default): the socket's address. `loopback`, a subnet list, or a hop count behind
   * load balancers (https://expressjs.com/en/guide/behind-proxies.html).
   */
  @IsString()
  TRUST_PROXY = '';

  /** How often the repeatable job looks for due interim looks (governance queue). */
  @Transform(toInt) @IsInt() @Min(100) @Max(86_400_000)
  INTERIM_LOOK_SWEEP_MS = 60_000;
}

/**
 * Validates `process.env`-like input into a typed {@link EnvironmentVariables}.
 * @throws Error listing every invalid variable.
 */
export function validateEnvironment(config: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, config, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return env;
}

/** Reads and validates the process environment once (for the CLI data source, demo and benches). */
export function loadEnvironment(): EnvironmentVariables {
  return validateEnvironment({ ...process.env });
}
