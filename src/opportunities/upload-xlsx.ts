import ExcelJS from 'exceljs';
import type { Readable } from 'node:stream';
import { AppException } from '../common/errors/app.exception';
import { CsvFormatError, headerOf } from '../common/utils/csv';

/** How an .xlsx upload was read; reported in the upload response as `detected`. */
export interface DetectedWorkbook {
  format: 'xlsx';
  /** The worksheet read, and where the choice came from: `query` (`?worksheet=`) or `first` (the first visible sheet in tab order). */
  worksheet: string;
  worksheet_source: 'query' | 'first';
  /** Every worksheet of the workbook, in tab order. */
  worksheets: string[];
  /** The sheet row of the header (the first non-empty row). */
  header_row: number;
}

/** Data rows handed to `onRows` at a time. */
const SLICE_ROWS = 1000;

type CellValue = ExcelJS.CellValue;

/**
 * Reads one worksheet of an .xlsx upload with exceljs's streaming reader (ExcelJS.stream.xlsx.WorkbookReader:
 * the ZIP is inflated and the sheet XML parsed as the bytes arrive; shared strings and styles are
 * cached, so a date-formatted cell comes as a Date) and hands its rows to `onRows` as the CSV reader
 * does (common/utils/csv.ts, `readCsvStream`): the first non-empty row is the header (names
 * trimmed; a name repeated, ignoring case, is refused), then data rows as strings, one per header
 * column, with their sheet row numbers (as Excel shows them). Cells become the text the row
 * parsers read (see {@link cellText}): a date cell is `YYYY-MM-DD` (midnight) or an ISO instant in
 * UTC (Excel stores no zone), a number its shortest decimal text, a boolean `true`/`false`, a
 * formula its cached result, an empty cell ''. Empty sheet rows are skipped.
 * @param worksheet `?worksheet=` (exact name, else the one name equal ignoring case); null = the first visible sheet
 * @param maxRows data rows allowed; more is a 413 BATCH_TOO_LARGE (`limitMessage`)
 * @throws MALFORMED_XLSX (400) for bytes that are no workbook (a corrupt ZIP, no worksheet), a sheet
 *   without a header or data rows, a repeated header name, a value right of the header's last column;
 *   WORKSHEET_NOT_FOUND (422, `details.worksheets`); BATCH_TOO_LARGE (413); whatever `onRows` throws
 */
export async function readXlsxRows(
  file: Readable,
  opts: { worksheet: string | null; maxRows: number; limitMessage: string },
  onRows: (rows: string[][], header: readonly string[], rowNumbers: readonly number[]) => void | Promise<void>,
): Promise<{ rows: number; detected: DetectedWorkbook }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  const model = () => reader as unknown as { model?: { sheets?: { name: string; state?: string }[] }; properties?: { model?: { date1904?: boolean } } };
  let target: string | null = null;
  let detected: DetectedWorkbook | null = null;
  let header: string[] | null = null;
  let count = 0;
  let sheetsSeen = 0;
  const emitted: string[] = [];
  let refusal: AppException | CsvFormatError | null = null;
  try {
    for await (const sheet of reader as AsyncIterable<ExcelJS.Worksheet>) {
      sheetsSeen++;
      emitted.push(sheet.name);
      const names = (model().model?.sheets ?? []).map((s) => s.name);
      target ??= chooseSheet(model().model?.sheets ?? [], opts.worksheet, sheet.name);
      if (sheet.name !== target || detected || refusal) {
        for await (const _row of sheet as unknown as AsyncIterable<ExcelJS.Row>) void _row; // the other sheets are read past
        continue;
      }
      let rows: string[][] = [];
      let numbers: number[] = [];
      for await (const row of sheet as unknown as AsyncIterable<ExcelJS.Row>) {
        // after a refusal the rest of the workbook is read past unprocessed: exceljs deletes the temporary
        // file it spooled the sheet to only when its reader reaches the end (breaking out leaves it behind)
        if (refusal) continue;
        try {
        const values = (row.values as CellValue[]).slice(1);
        const cells = values.map((v, i) => cellText(v, row.getCell(i + 1).numFmt, model().properties?.model?.date1904 === true));
        if (cells.every((c) => c === '')) continue;
        if (!header) {
          header = headerOf(cells);
          detected = { format: 'xlsx', worksheet: sheet.name, worksheet_source: opts.worksheet === null ? 'first' : 'query', worksheets: names.length ? names : [sheet.name], header_row: row.number };
          continue;
        }
        const extra = cells.findIndex((c, i) => i >= header!.length && c !== '');
        if (extra >= 0) {
          throw new AppException('MALFORMED_XLSX', `Sheet '${sheet.name}' row ${row.number} has a value in column ${columnLetters(extra + 1)}, right of the header's last column (${columnLetters(header.length)})`, {
            row: row.number,
            column: columnLetters(extra + 1),
          });
        }
        while (cells.length < header.length) cells.push('');
        cells.length = header.length;
        if (++count > opts.maxRows) throw new AppException('BATCH_TOO_LARGE', opts.limitMessage, { max_rows: opts.maxRows });
        rows.push(cells);
        numbers.push(row.number);
        if (rows.length >= SLICE_ROWS) {
          const wait = onRows(rows, header, numbers);
          rows = [];
          numbers = [];
          if (wait) await wait;
        }
        } catch (err) {
          if (!(err instanceof AppException || err instanceof CsvFormatError)) throw err;
          refusal = err;
        }
      }
      if (refusal) continue;
      if (!detected) detected = { format: 'xlsx', worksheet: sheet.name, worksheet_source: opts.worksheet === null ? 'first' : 'query', worksheets: names.length ? names : [sheet.name], header_row: 0 };
      if (rows.length && header) {
        const wait = onRows(rows, header, numbers);
        if (wait) await wait;
      }
    }
    if (refusal) throw refusal;
  } catch (err) {
    file.unpipe(); // from exceljs's unzipper: the caller drains the rest unread
    if (err instanceof AppException) throw err;
    if (err instanceof CsvFormatError) throw new AppException('MALFORMED_XLSX', `The header of sheet '${detected?.worksheet ?? target}' is refused: ${err.message}`);
    throw new AppException('MALFORMED_XLSX', `The upload is not a readable .xlsx workbook: ${zipReason((err as Error).message)}`);
  }
  const all = (model().model?.sheets ?? []).map((s) => s.name);
  if (sheetsSeen === 0) throw new AppException('MALFORMED_XLSX', 'The upload is not a readable .xlsx workbook: it has no worksheet');
  if (!detected) {
    throw new AppException('WORKSHEET_NOT_FOUND', `The workbook has no worksheet '${opts.worksheet}'`, { worksheet: opts.worksheet, worksheets: all.length ? all : emitted });
  }
  if (!header) throw new AppException('MALFORMED_XLSX', `Sheet '${detected.worksheet}' is empty (no header row)`, { detected });
  if (count === 0) throw new AppException('MALFORMED_XLSX', `Sheet '${detected.worksheet}' has a header but no data rows`, { detected });
  return { rows: count, detected };
}

/** The sheet to read: `wanted` by name (exact, else the one equal ignoring case), or the first visible one in tab order. */
function chooseSheet(sheets: { name: string; state?: string }[], wanted: string | null, firstEmitted: string): string {
  if (wanted !== null) {
    if (sheets.some((s) => s.name === wanted)) return wanted;
    const folded = sheets.filter((s) => s.name.toLowerCase() === wanted.toLowerCase());
    return folded.length === 1 ? folded[0].name : wanted;
  }
  return (sheets.find((s) => !s.state || s.state === 'visible') ?? sheets[0])?.name ?? firstEmitted;
}

/** The ZIP reader's (unzipper) terse errors in words. */
function zipReason(message: string): string {
  if (/FILE_ENDED/.test(message)) return 'the ZIP archive ends early (a truncated or corrupt file)';
  if (/invalid signature/i.test(message)) return `it is no ZIP archive (${message}); an .xlsx is one`;
  return message;
}

/** `1` → `A`, `28` → `AB`. */
function columnLetters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** exceljs's rule for a date number format: after removing `[…]` and `"…"`, a y m d h s or b remains. */
function isDateFormat(fmt: string | undefined): boolean {
  return !!fmt && /[ymdhMsb]/.test(fmt.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** An Excel serial day number (1900 or 1904 date system) as an instant (the wall clock read as UTC). */
export function excelSerialToDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/**
 * The text of one cell as the row parsers read it (the CSV path's cell strings):
 * - empty → ''; a string → trimmed; rich text → its runs joined;
 * - a Date (a number cell with a date format: Excel's serial date) → `YYYY-MM-DD` at midnight,
 *   else `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (Excel has no zone: the wall clock is read as UTC);
 * - a number → its shortest decimal text after rounding to 15 significant digits (what Excel
 *   shows and stores: 0.1 + 0.2 is `0.3`); a plain number is never taken for a date, so a serial
 *   day without a date format (45292) is rejected by a date column with its reason;
 * - a boolean → `true` / `false`; a formula → its cached result (a date-formatted number result as a date);
 * - an error cell → its code (`#N/A`), rejected by the column that reads it.
 */
export function cellText(v: CellValue, numFmt: string | undefined, date1904: boolean): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return isDateFormat(numFmt) && Number.isFinite(v) ? dateText(excelSerialToDate(v, date1904)) : numberText(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return dateText(v);
  if (typeof v === 'object') {
    if ('richText' in v && Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('').trim();
    if ('error' in v) return String(v.error);
    if ('formula' in v || 'sharedFormula' in v) return cellText((v as { result?: CellValue }).result ?? null, numFmt, date1904);
    if ('text' in v) return String((v as { text: unknown }).text ?? '').trim();
  }
  return String(v).trim();
}

function numberText(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toPrecision(15))) : String(n);
}

function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}
