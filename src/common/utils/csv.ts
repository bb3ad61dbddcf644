import Papa from 'papaparse';
import { StringDecoder } from 'node:string_decoder';
import { Readable, Transform, TransformCallback } from 'node:stream';

/**
 * Every CSV PilotLab reads goes through this module (papaparse underneath), with one contract:
 * - comma-separated by default (`readCsvStream` takes another delimiter: opportunity uploads detect it,
 *   see opportunities/upload-decoding.ts), RFC 4180 quoting (`"a, b"`, `"say ""hi"""`, line breaks inside quotes);
 * - LF or CRLF line ends, mixed too (a CR before the line end is trimmed with the cell);
 * - a UTF-8 byte order mark is stripped (pitfall P18: it must not stick to the first header);
 * - the first non-blank line is the header: names trimmed; a name repeated, ignoring case, is an
 *   error (a parser would otherwise silently keep one of the two columns);
 * - blank lines are skipped; every other line must have exactly as many cells as the header;
 * - cells are trimmed and stay strings (typing happens in the row parsers);
 * - refused as malformed (the whole file, {@link CsvFormatError}): an unterminated quoted cell, a
 *   closing quote followed by text, a row with a different number of cells, whitespace before an
 *   opening quote (`a, "b,c"` would otherwise split inside the quotes).
 * A quote inside an unquoted cell (`27" monitor`) is kept as text.
 *
 * Used to be csv-parse (the same options). papaparse parses the same files about six times as
 * fast (1,000,000 rows of bench:ingest: 1.2 s against 7.0 s), which is what CSV uploads at CRM
 * scale need; the contract above is tested in src/common/utils/csv.spec.ts, including against csv-parse.
 */
/** A CSV that breaks the contract above; the message names the rule and the data row. */
export class CsvFormatError extends Error {}

/** Papa options for one parse: the header is handled here (see RecordBuilder), not by Papa. */
const PAPA_OPTIONS = { delimiter: ',', newline: '\n', quoteChar: '"', escapeChar: '"', header: false, skipEmptyLines: false } as const;

const SPACE_BEFORE_QUOTE = /^[ \t]+"/;

/**
 * Checks Papa's rows against the contract and trims their cells. Stateful across calls
 * (streaming): the first non-blank row is the header. Data rows are numbered from 1.
 */
class RowChecker {
  header: string[] | null = null;
  records = 0;

  /** The data rows of `rows` (cells trimmed); throws CsvFormatError on the first contract violation. */
  check(rows: string[][], errors: Papa.ParseError[]): string[][] {
    if (errors.length > 0) {
      const e = errors[0];
      const at = e.row === undefined ? `after data row ${this.records}` : `near data row ${this.records + e.row + (this.header ? 1 : 0)}`;
      throw new CsvFormatError(`${e.message} (${at})`);
    }
    const out: string[][] = [];
    for (const row of rows) {
      if (row.length === 1 && row[0].trim() === '') continue; // a blank line
      for (let i = 0; i < row.length; i++) {
        const cell = row[i];
        if (SPACE_BEFORE_QUOTE.test(cell)) {
          throw new CsvFormatError(`whitespace before an opening quote in ${this.header ? `data row ${this.records + 1}` : 'the header'}: ${JSON.stringify(cell.slice(0, 40))}`);
        }
        row[i] = cell.trim();
      }
      if (!this.header) {
        this.header = headerOf(row);
        continue;
      }
      this.records++;
      if (row.length !== this.header.length) {
        throw new CsvFormatError(`data row ${this.records} has ${row.length} cells; the header has ${this.header.length}`);
      }
      out.push(row);
    }
    return out;
  }
}

/** A data row as a record keyed by header name. */
export function toRecord(header: readonly string[], row: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) record[header[i]] = row[i];
  return record;
}

/**
 * The header names of a table's first row (trimmed), under this module's contract; the .xlsx upload
 * reader (opportunities/upload-xlsx.ts) checks a sheet's header with it too.
 * @throws CsvFormatError when a name is repeated, ignoring case
 */
export function headerOf(row: string[]): string[] {
  const names = row.map((h) => h.trim()); // (a BOM is stripped before parsing: it would hide a quote)
  const lower = names.map((h) => h.toLowerCase());
  const repeated = names.filter((h, i) => lower.indexOf(h.toLowerCase()) !== i);
  if (repeated.length) throw new CsvFormatError(`repeated column name(s) in the header: ${[...new Set(repeated)].join(', ')}`);
  return names;
}

/** Longest line (or run of lines inside one quoted cell) a stream may hold before its next line end. */
export const MAX_CSV_LINE_CHARS = 8 * 1024 * 1024;

/**
 * Decodes UTF-8 bytes (a character split across chunks stays whole) and re-cuts the text so that
 * every piece ends just after a line feed. Papa's streaming parser misreads a quoted cell whose
 * closing quote ends one chunk while its line end (`\r\n`) starts the next ("Trailing quote on
 * quoted field is malformed"); with whole lines it never sees a chunk end there.
 */
class LineAlignedText extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = this.rest + this.decoder.write(chunk);
    const cut = text.lastIndexOf('\n') + 1;
    this.rest = text.slice(cut);
    if (this.rest.length > MAX_CSV_LINE_CHARS) return done(new CsvFormatError(`a CSV line is longer than ${MAX_CSV_LINE_CHARS} characters`));
    if (cut > 0) this.push(text.slice(0, cut));
    done();
  }

  override _flush(done: TransformCallback): void {
    const text = this.rest + this.decoder.end();
    if (text) this.push(text);
    done();
  }
}

/**
 * Parses a whole (small) CSV into records keyed by header name.
 * @param input UTF-8 bytes or text
 * @returns one record per data row, in file order (empty when the file has a header only)
 * @throws CsvFormatError on malformed input (see the module comment)
 */
export function parseCsvBuffer(input: Buffer | string): Record<string, string>[] {
  const text = (typeof input === 'string' ? input : input.toString('utf8')).replace(/^\uFEFF/, '');
  const parsed = Papa.parse<string[]>(text, PAPA_OPTIONS);
  const checker = new RowChecker();
  const rows = checker.check(parsed.data, parsed.errors);
  return rows.map((row) => toRecord(checker.header!, row));
}

/**
 * Streams a CSV of any size: `onRows` gets the data rows of each parsed slice (in file order, a
 * few hundred to a few thousand at a time; cells trimmed, as many as the header's names, see
 * {@link toRecord}), synchronously. When it returns a promise, reading pauses until the promise
 * settles (backpressure: memory stays flat whatever the file size).
 * @param input the raw bytes (decoded here as UTF-8, with characters split across chunks kept whole)
 * @param options.delimiter the cell delimiter (default `,`; uploads detect it, see opportunities/upload-decoding.ts)
 * @returns the header names and the number of data records
 * @throws CsvFormatError on malformed input, or whatever `onRows` throws (reading stops)
 */
export function readCsvStream(
  input: Readable,
  onRows: (rows: string[][], header: readonly string[]) => void | Promise<void>,
  options: { delimiter?: string } = {},
): Promise<{ header: string[]; records: number }> {
  const text = new LineAlignedText();
  input.on('error', (err) => text.destroy(err));
  input.pipe(text);
  text.on('error', () => undefined); // reported through Papa's error callback
  const checker = new RowChecker();
  return new Promise((resolve, reject) => {
    let failed: unknown = null;
    // The last promise onRows returned: the stream may end while it is pending.
    let pending: Promise<void> = Promise.resolve();
    const fail = (err: unknown, parser?: Papa.Parser) => {
      if (failed) return;
      failed = err;
      parser?.abort();
      input.unpipe(text);
      text.destroy();
      reject(err);
    };
    Papa.parse<string[]>(text, {
      ...PAPA_OPTIONS,
      delimiter: options.delimiter ?? PAPA_OPTIONS.delimiter,
      beforeFirstChunk: (chunk) => chunk.replace(/^\uFEFF/, ''),
      chunk: (results, parser) => {
        if (failed) return;
        try {
          const rows = checker.check(results.data, results.errors);
          if (rows.length === 0) return;
          const wait = onRows(rows, checker.header!);
          if (wait) {
            text.pause();
            pending = wait.then(
              () => {
                if (!failed) text.resume();
              },
              (err) => fail(err, parser),
            );
          }
        } catch (err) {
          fail(err, parser);
        }
      },
      complete: () => {
        void pending.then(() => {
          if (failed) return;
          if (!checker.header) return fail(new CsvFormatError('the CSV is empty (no header)'));
          resolve({ header: checker.header, records: checker.records });
        });
      },
      error: (err: Error) => fail(err instanceof CsvFormatError ? err : new CsvFormatError(err.message)),
    });
  });
}
