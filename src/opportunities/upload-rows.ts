import type { Readable } from 'node:stream';
import { AppException } from '../common/errors/app.exception';
import { CsvFormatError, readCsvStream } from '../common/utils/csv';
import { DetectedFormat, FormatOverride, UploadDecoder } from './upload-decoding';
import type { Upload } from './upload-stream';
import { DetectedWorkbook, readXlsxRows } from './upload-xlsx';

/**
 * The one row sink of table uploads (CSV and .xlsx): slices of data rows, cells as trimmed strings,
 * one per header name, in file order. `rowNumbers` are the sheet rows of an .xlsx (as Excel
 * shows them); null for a CSV, whose rows count from 1 after the header. Return a promise to pause
 * reading until it settles (backpressure).
 */
export type UploadRowsHandler = (rows: string[][], header: readonly string[], rowNumbers: readonly number[] | null) => void | Promise<void>;

/** The row limit of an upload: more data rows are a 413 BATCH_TOO_LARGE with `message` and `details.max_rows`. */
export interface UploadRowLimit {
  maxRows: number;
  message: string;
}

/** How a CSV was read (the `detected` object of upload answers). */
export function detectedOf(d: DetectedFormat) {
  return { delimiter: d.delimiter, encoding: d.encoding, bom: d.bom, source: d.source };
}

/** `delimiter ';' (header), encoding utf-8 (bom) with BOM`: the format named in parse errors. */
function describeFormat(d: DetectedFormat): string {
  const delim = d.delimiter === '\t' ? 'tab' : `'${d.delimiter}'`;
  return `delimiter ${delim} (${d.source.delimiter}), encoding ${d.encoding} (${d.source.encoding})${d.bom ? ' with BOM' : ''}`;
}

/**
 * Reads a CSV upload into `onRows`: encoding and delimiter chosen from the first bytes (or the
 * override, upload-decoding.ts), then the project's CSV reader (common/utils/csv.ts).
 * @returns the number of data rows and how the bytes were read
 * @throws MALFORMED_CSV (400; `details.detected` once the format was chosen) for a file the reader
 *   refuses, an ambiguous delimiter, or no data rows; BATCH_TOO_LARGE (413) above `limit.maxRows`;
 *   an AppException `onRows` throws as is (any other error of `onRows` is reported as MALFORMED_CSV)
 */
export async function readCsvUploadRows(file: Readable, format: FormatOverride, limit: UploadRowLimit, onRows: UploadRowsHandler): Promise<{ rows: number; detected: DetectedFormat }> {
  const decoder = new UploadDecoder(format);
  file.on('error', (err) => decoder.destroy(err));
  decoder.on('error', () => undefined); // reported through `detected` (before reading) or by the reader
  file.pipe(decoder);
  let detected: DetectedFormat | null = null;
  let rows = 0;
  try {
    detected = await decoder.detected;
    await readCsvStream(
      decoder,
      (slice, header) => {
        rows += slice.length;
        if (rows > limit.maxRows) throw new AppException('BATCH_TOO_LARGE', limit.message, { max_rows: limit.maxRows });
        return onRows(slice, header, null);
      },
      { delimiter: detected.delimiter },
    );
  } catch (err) {
    file.unpipe(decoder);
    if (err instanceof AppException) throw err;
    const reason = err instanceof CsvFormatError ? err.message : `the upload could not be read: ${(err as Error).message}`;
    const how = detected ? ` (read as ${describeFormat(detected)}; pass ?delimiter= or ?encoding= to override)` : '';
    throw new AppException('MALFORMED_CSV', `CSV could not be parsed: ${reason}${how}`, detected ? { detected: detectedOf(detected) } : undefined);
  }
  if (rows === 0) throw new AppException('MALFORMED_CSV', 'The CSV has a header but no data rows', { detected: detectedOf(detected) });
  return { rows, detected };
}

/** The `detected` object of a table upload: `format` says which reader read it. */
export type UploadDetected = ({ format: 'csv' } & ReturnType<typeof detectedOf>) | DetectedWorkbook;

/**
 * Reads a table upload, CSV or .xlsx ({@link Upload.kind}), into the same row sink: the CSV
 * through {@link readCsvUploadRows}, a workbook's sheet through upload-xlsx.ts. The options of
 * the other kind are refused (`?delimiter=`/`?encoding=` for an xlsx, `?worksheet=` for a CSV).
 * @param opts.worksheet `?worksheet=` (null: the first sheet)
 * @throws VALIDATION_FAILED (an option of the other kind), MALFORMED_CSV, MALFORMED_XLSX,
 *   WORKSHEET_NOT_FOUND, BATCH_TOO_LARGE, or what `onRows` throws
 */
export async function readUploadRows(
  upload: Upload,
  opts: { format: FormatOverride; worksheet: string | null; limit: UploadRowLimit },
  onRows: UploadRowsHandler,
): Promise<{ rows: number; detected: UploadDetected }> {
  if (upload.kind === 'xlsx') {
    const given = [opts.format.delimiter !== null && 'delimiter', opts.format.encoding !== null && 'encoding'].filter((p): p is string => !!p);
    if (given.length) {
      throw new AppException('VALIDATION_FAILED', `${given.join(' and ')} apply to CSV uploads, not to an .xlsx workbook`, given.map((path) => ({ path, errors: ['not for an .xlsx upload'] })));
    }
    const { rows, detected } = await readXlsxRows(upload.stream, { worksheet: opts.worksheet, maxRows: opts.limit.maxRows, limitMessage: opts.limit.message }, onRows);
    return { rows, detected };
  }
  if (opts.worksheet !== null) {
    throw new AppException('VALIDATION_FAILED', 'worksheet applies to an .xlsx upload, not to a CSV', [{ path: 'worksheet', errors: ['not for a CSV upload'] }]);
  }
  const { rows, detected } = await readCsvUploadRows(upload.stream, opts.format, opts.limit, onRows);
  return { rows, detected: { format: 'csv', ...detectedOf(detected) } };
}
