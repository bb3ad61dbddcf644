import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import type { FieldError } from './validation';

/** At most this many offending fields are named in one error (a body can hold thousands). */
const MAX_REPORTED = 20;

/**
 * The paths (dotted, arrays by index, as the validation errors name them) of every string in
 * `value` — object keys included — that contains a NUL character (U+0000), at most `max` of them.
 * PostgreSQL rejects NUL in `text`/`varchar`/`jsonb` (SQLSTATE 22021 / 22P05), so such a value must
 * never reach a query.
 */
export function pathsWithNul(value: unknown, root: string, max = MAX_REPORTED): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (out.length >= max) return;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) out.push(path);
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
      if (k.includes('\u0000')) out.push(p);
      walk(x, p);
    }
  };
  walk(value, root);
  return out;
}

/**
 * Global pipe (before the ValidationPipe): rejects a NUL byte in any JSON string of the body, any
 * query parameter or any path parameter with 400 VALIDATION_FAILED naming each field (`in`: body,
 * query or path). Without it PostgreSQL rejects the value and the request fails with a 500.
 */
@Injectable()
export class RejectNulBytesPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type === 'custom') return value;
    const where = meta.type === 'param' ? 'path' : meta.type;
    const paths = pathsWithNul(value, meta.data ?? '');
    if (!paths.length) return value;
    const details: (FieldError & { in: string })[] = paths.map((p) => ({ path: p || '(root)', in: where, errors: ['must not contain a NUL byte (\\u0000)'] }));
    throw new AppException('VALIDATION_FAILED', `A NUL byte (\\u0000) is not allowed; found in ${where}: ${details.map((d) => d.path).join(', ')}`, details);
  }
}
