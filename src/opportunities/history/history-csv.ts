import type { Readable } from 'node:stream';
import { toRecord } from '../../common/utils/csv';
import { DetectedFormat, FormatOverride } from '../upload-decoding';
import { readCsvUploadRows } from '../upload-rows';

export { detectedOf } from '../upload-rows';

/** Most data rows of one history upload, CSV or JSON (the JSON body's `records` limit). */
export const HISTORY_MAX_ROWS = 50_000;

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
  const records: Record<string, string>[] = [];
  try {
    const limit = { maxRows: HISTORY_MAX_ROWS, message: `A history upload holds at most ${HISTORY_MAX_ROWS} rows` };
    const { detected } = await readCsvUploadRows(file, format, limit, (rows, header) => {
      for (const row of rows) records.push(toRecord(header, row));
    });
    return { records, detected };
  } catch (err) {
    file.resume();
    throw err;
  }
}
