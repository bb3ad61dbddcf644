import { TypeOrmLogger, QueryLogSink } from './typeorm-logger';

function recordingSink(): QueryLogSink & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  return {
    lines,
    debug: (m) => lines.push(['debug', m]),
    log: (m) => lines.push(['log', m]),
    warn: (m) => lines.push(['warn', m]),
  };
}

describe('TypeOrmLogger', () => {
  it('logs a failed query at debug as one line, with its SQLSTATE and the first line of the statement', () => {
    const sink = recordingSink();
    const error = Object.assign(new Error('duplicate key value violates unique constraint "uq_key"'), { code: '23505' });
    new TypeOrmLogger('debug', sink).logQueryError(error, 'INSERT INTO "audit_events"("actor") VALUES ($1)\nRETURNING "id"');
    expect(sink.lines).toEqual([['debug', 'query failed (SQLSTATE 23505): duplicate key value violates unique constraint "uq_key"; INSERT INTO "audit_events"("actor") VALUES ($1)']]);
  });

  it('says "unknown" when the error has no SQLSTATE, and cuts long statements', () => {
    const sink = recordingSink();
    new TypeOrmLogger('debug', sink).logQueryError('connection lost', `SELECT ${'x'.repeat(300)}`);
    expect(sink.lines[0][0]).toBe('debug');
    expect(sink.lines[0][1]).toMatch(/^query failed \(SQLSTATE unknown\): connection lost; SELECT x+…$/);
    expect(sink.lines[0][1].length).toBeLessThan(260);
  });

  it('warns on slow queries and TypeORM warnings, and logs nothing for ordinary queries', () => {
    const sink = recordingSink();
    const logger = new TypeOrmLogger('info', sink);
    logger.logQuery();
    logger.logQuerySlow(1200, 'SELECT 1');
    logger.log('warn', 'pool exhausted');
    logger.log('info', { a: 1 });
    logger.logMigration('Migration Init1 has been executed');
    expect(sink.lines).toEqual([
      ['warn', 'slow query (1200 ms): SELECT 1'],
      ['warn', 'pool exhausted'],
      ['log', '{"a":1}'],
      ['log', 'Migration Init1 has been executed'],
    ]);
  });

  it('applies the configured level: at warn a failed query prints nothing, a slow query still does', () => {
    const sink = recordingSink();
    const logger = new TypeOrmLogger('warn', sink);
    logger.logQueryError(Object.assign(new Error('audit_events is append-only'), { code: 'P0001' }), 'UPDATE "audit_events" SET "actor" = $1');
    logger.logMigration('Migration Init1 has been executed');
    logger.logQuerySlow(900, 'SELECT 2');
    expect(sink.lines).toEqual([['warn', 'slow query (900 ms): SELECT 2']]);
  });
});
