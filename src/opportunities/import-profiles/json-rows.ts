import { AppException } from '../../common/errors/app.exception';
import { buildValidationPipe } from '../../common/validation/validation';
import { CreateBatchDto } from '../dto/create-batch.dto';
import { CANONICAL_FIELDS } from '../ingestion/opportunity-row.parser';
import { Cell, compileProfileMapping, CompiledProfileMapping, ImportProfile } from './profiles';

/**
 * Checks the shape of a JSON batch for a profile and compiles its mapping from the rows' keys
 * (the same resolution as a CSV header). `pilotlab` rows go through {@link CreateBatchDto} with the
 * global pipe's rules (unknown fields and wrong JSON types are a 400 for the whole request, P16);
 * other profiles' rows must be flat objects of strings, numbers, booleans or null whose every key
 * is a column of the profile.
 * @returns the rows and the compiled mapping. @throws VALIDATION_FAILED
 */
export async function readJsonBatch(body: unknown, profile: ImportProfile, columnMap: Record<string, string> | null = null): Promise<{ rows: Record<string, Cell>[]; compiled: CompiledProfileMapping }> {
  let rows: Record<string, Cell>[];
  if (profile.name === 'pilotlab') {
    const dto = (await buildValidationPipe().transform(body, { type: 'body', metatype: CreateBatchDto })) as CreateBatchDto;
    // The DTO instance holds every declared property (undefined when absent): keep the fields sent.
    rows = dto.rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, Cell>);
  } else {
    const raw = (body as { rows?: unknown } | null)?.rows;
    const extra = body && typeof body === 'object' ? Object.keys(body).filter((k) => k !== 'rows') : [];
    const details: { path: string; errors: string[] }[] = extra.map((k) => ({ path: k, errors: [`property ${k} should not exist`] }));
    if (!Array.isArray(raw) || raw.length === 0) details.push({ path: 'rows', errors: ['rows must be a non-empty array'] });
    else {
      raw.forEach((r, i) => {
        if (!r || typeof r !== 'object' || Array.isArray(r)) details.push({ path: `rows.${i}`, errors: ['each row must be a JSON object'] });
        else
          for (const [k, v] of Object.entries(r)) {
            const ok = v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
            if (!ok) details.push({ path: `rows.${i}.${k}`, errors: [`${k} must be a string, a finite number, a boolean or null`] });
            else if (typeof v === 'string' && v.length > 1000) details.push({ path: `rows.${i}.${k}`, errors: [`${k} must be at most 1000 characters`] });
          }
      });
    }
    if (details.length) throw new AppException('VALIDATION_FAILED', `Request validation failed: ${details.map((d) => d.path).join(', ')}`, details);
    rows = raw as Record<string, Cell>[];
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  // A canonical field name as a JSON key feeds that field (as the DTO always did); aliases fill the rest.
  const canonical = profile.name === 'pilotlab' ? Object.fromEntries(keys.filter((k) => (CANONICAL_FIELDS as readonly string[]).includes(k)).map((k) => [k, k])) : null;
  // A source's stored column map names its columns; those absent from this batch are not used.
  const stored = columnMap ? Object.fromEntries(Object.entries(columnMap).filter(([, c]) => keys.includes(c))) : {};
  const explicit = canonical || columnMap ? { ...(canonical ?? {}), ...stored } : null;
  const compiled = compileProfileMapping(profile, keys, explicit);
  if (profile.name !== 'pilotlab' && compiled.ignored_columns.length) {
    const details = compiled.ignored_columns.map((k) => ({ path: `rows.${rows.findIndex((r) => k in r)}.${k}`, errors: [`property ${k} should not exist (not a column of profile ${profile.name})`] }));
    throw new AppException('VALIDATION_FAILED', `Request validation failed: ${details.map((d) => d.path).join(', ')}`, details);
  }
  return { rows, compiled };
}
