import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import type { FieldError } from './validation';

/** At most this many offending fields are named in one error (a body can hold thousands). */
const MAX_REPORTED = 20;

/**
 * Object keys no PilotLab field uses and that break or poison object handling: class-transformer's
 * plainToInstance throws a TypeError on a nested plain object with an own `constructor` key
 * (typestack/class-transformer#1462; the request then failed with a 500), and `__proto__` /
 * `prototype` are the prototype-pollution keys.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** One offending place in an input: its dotted path (arrays by index) and what is wrong there. */
export interface UnsafeInput {
  path: string;
  error: string;
}

const NUL_ERROR = 'must not contain a NUL byte (\\u0000)';
const RESERVED_ERROR = 'is a reserved key (__proto__, constructor, prototype) and cannot be used as a field name';

/**
 * Every place in `value` (a parsed JSON body, a query object or a path parameter) that PilotLab must
 * refuse before any other handling, at most `max` of them, in document order:
 * - a string, or an object key, containing a NUL character (U+0000): PostgreSQL rejects NUL in
 *   `text`/`varchar`/`jsonb` (SQLSTATE 22021 / 22P05), so such a value must never reach a query;
 * - an object key in RESERVED_KEYS.
 * Paths are dotted, arrays by index, as the validation errors name them; a NUL in a key is shown
 * escaped (`k\u0000`).
 */
export function unsafeInputPaths(value: unknown, root: string, max = MAX_REPORTED): UnsafeInput[] {
  const out: UnsafeInput[] = [];
  const walk = (v: unknown, path: string): void => {
    if (out.length >= max) return;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) out.push({ path, error: NUL_ERROR });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, path ? `${path}.${i}` : String(i)));
      return;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const name = k.includes('\u0000') ? JSON.stringify(k).slice(1, -1) : k;
      const p = path ? `${path}.${name}` : name;
      if (k.includes('\u0000')) out.push({ path: p, error: NUL_ERROR });
      else if (RESERVED_KEYS.has(k)) out.push({ path: p, error: RESERVED_ERROR });
      walk(x, p);
    }
  };
  walk(value, root);
  return out.slice(0, max);
}

/**
 * Global pipe (before the ValidationPipe): rejects a NUL byte in any JSON string of the body, any
 * query parameter or any path parameter, and a reserved key (RESERVED_KEYS) in the body or the
 * query, with 400 VALIDATION_FAILED naming each field (`in`: body, query or path). Without it
 * PostgreSQL rejects a NUL and class-transformer throws on a `constructor` key: both were 500s.
 */
@Injectable()
export class RejectUnsafeInputPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type === 'custom') return value;
    const where = meta.type === 'param' ? 'path' : meta.type;
    const found = unsafeInputPaths(value, meta.data ?? '');
    if (!found.length) return value;
    const details: (FieldError & { in: string })[] = found.map((u) => ({ path: u.path || '(root)', in: where, errors: [u.error] }));
    const kinds = [...new Set(found.map((u) => (u.error === NUL_ERROR ? 'a NUL byte (\\u0000)' : 'a reserved key')))].join(' and ');
    throw new AppException('VALIDATION_FAILED', `Input with ${kinds} is not allowed; found in ${where}: ${details.map((d) => d.path).join(', ')}`, details);
  }
}
