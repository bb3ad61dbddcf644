import type { Readable } from 'node:stream';
import { AppException } from '../../common/errors/app.exception';
import { CsvFormatError, readCsvStream, toRecord } from '../../common/utils/csv';
import { DetectedFormat, FormatOverride, UploadDecoder } from '../upload-decoding';

/** Most data rows of one history upload, CSV or JSON (the JSON body's `records` limit). */
export const HISTORY_MAX_ROWS = 50_000;

/** How an upload was read (the `detected` object of upload answers). */
export function detectedOf(d: DetectedFormat) {
  return { delimiter: d.delimiter, encoding: d.encoding, bom: d.bom, source: d.source };
}

/**
 * Reads a history CSV upload into records keyed by header name, through the project's CSV reader
 * (common/utils/csv.ts) after encoding and delimiter detection (upload-decoding.ts), as opportunity
 * uploads are read. Record i (0-based) is data row i + 1 (header excluded): the row number the
 * JSON endpoint gives `records[i]`. Cells stay strings (parseHistoryRecord types them).
 * @param format `?delimiter=` / `?encoding=` overrides (null = detect)
 * @returns the records and how the bytes were read
 * @throws MALFORMED_CSV (400, with `details.detected` once the format was chosen) for a file the
 *   reader refuses or without data rows; BATCH_TOO_LARGE (413) above {@link HISTORY_MAX_ROWS} rows
 */
export async function readHistoryCsv(file: Readable, format: FormatOverride): Promise<{ records: Record<string, string>[]; detected: DetectedFormat }> {
  const decoder = new UploadDecoder(format);
  file.on('error', (err) => decoder.destroy(err));
  decoder.on('error', () => undefined); // reported through `detected` or by the reader
  file.pipe(decoder);
  const records: Record<string, string>[] = [];
  let detected: DetectedFormat | null = null;
  try {
    detected = await decoder.detected;
    await readCsvStream(
      decoder,
      (rows, header) => {
        if (records.length + rows.length > HISTORY_MAX_ROWS) {
          throw new AppException('BATCH_TOO_LARGE', `A history upload holds at most ${HISTORY_MAX_ROWS} rows`, { max_rows: HISTORY_MAX_ROWS });
        }
        for (const row of rows) records.push(toRecord(header, row));
      },
      { delimiter: detected.delimiter },
    );
  } catch (err) {
    file.unpipe(decoder);
    file.resume();
    if (err instanceof AppException) throw err;
    const reason = err instanceof CsvFormatError ? err.message : `the upload could not be read: ${(err as Error).message}`;
    const how = detected ? ` (read as delimiter ${detected.delimiter === '\t' ? 'tab' : `'${detected.delimiter}'`}, encoding ${detected.encoding}; pass ?delimiter= or ?encoding= to override)` : '';
    throw new AppException('MALFORMED_CSV', `CSV could not be parsed: ${reason}${how}`, detected ? { detected: detectedOf(detected) } : undefined);
  }
  if (records.length === 0) throw new AppException('MALFORMED_CSV', 'The CSV has a header but no data rows', { detected: detectedOf(detected) });
  return { records, detected };
}
