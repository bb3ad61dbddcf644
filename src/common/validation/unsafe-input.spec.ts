import { plainToInstance } from 'class-transformer';
import { IsString } from 'class-validator';
import { AppException } from '../errors/app.exception';
import { RejectUnsafeInputPipe, unsafeInputPaths } from './unsafe-input';

const paths = (v: unknown, root = '', max?: number) => unsafeInputPaths(v, root, max).map((u) => u.path);

describe('unsafeInputPaths', () => {
  it('names values and keys with NUL by dotted path, arrays by index', () => {
    expect(paths({ a: 'ok', rows: [{ x: 'ok' }, { x: 'b\u0000' }], ['k\u0000']: 1 })).toEqual(['rows.1.x', 'k\\u0000']);
    expect(paths('x\u0000', 'id')).toEqual(['id']);
    expect(paths({ n: 5, s: 'fine' })).toEqual([]);
  });

  it('names every reserved key, at any depth, as JSON.parse builds them (own __proto__ included)', () => {
    const body = JSON.parse('[{"team": {"constructor": "x"}}, {"__proto__": {"admin": true}}, {"a": [{"prototype": 1}]}, {"constructors": 1}]');
    expect(paths(body)).toEqual(['0.team.constructor', '1.__proto__', '2.a.0.prototype']);
    expect(unsafeInputPaths(body, '')[0].error).toMatch(/reserved key/);
  });

  it('stops after max paths', () => {
    expect(paths(Array.from({ length: 100 }, () => '\u0000'), '', 3)).toHaveLength(3);
  });
});

class Dto {
  @IsString()
  team!: string;
}

describe('RejectUnsafeInputPipe', () => {
  it('refuses the body that makes class-transformer throw, with a 400 naming the field', () => {
    const body = JSON.parse('{"team": {"constructor": "x"}}');
    // The library defect this pipe keeps away from the request path (typestack/class-transformer#1462).
    expect(() => plainToInstance(Dto, body)).toThrow(TypeError);
    let caught: any;
    try {
      new RejectUnsafeInputPipe().transform(body, { type: 'body', data: undefined });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppException);
    expect(caught.statusCode).toBe(400);
    expect(caught).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'team.constructor', in: 'body' }] });
  });

  it('passes clean input through unchanged, and leaves custom (decorator) values alone', () => {
    const pipe = new RejectUnsafeInputPipe();
    const body = { team: 'x', rows: [{ a: 1 }] };
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    expect(pipe.transform({ constructor: 1 }, { type: 'custom' })).toEqual({ constructor: 1 });
  });
});
