import { parse, Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/**
 * csv-parse options for every CSV PilotLab reads: a UTF-8 BOM is stripped (pitfall P18: with the
 * defaults it sticks to the first header), CRLF or LF, header row as column names (a repeated
 * name, ignoring case, is an error), cells trimmed, blank lines skipped. Cells stay strings; typing happens in the row parsers.
 */
export const CSV_OPTIONS: Options = {
  bom: true,
  columns: (header: string[]) => {
    const names = header.map((h) => h.trim());
    const lower = names.map((h) => h.toLowerCase());
    const repeated = names.filter((h, i) => lower.indexOf(h.toLowerCase()) !== i);
    // csv-parse would silently keep the last of two equal names: refuse the file instead.
    if (repeated.length) throw new Error(`repeated column name(s) in the header: ${[...new Set(repeated)].join(', ')}`);
    return names;
  },
  trim: true,
  skip_empty_lines: true,
  relax_column_count: false,
};

/** Parses a whole (small) CSV buffer into records. @throws csv-parse's CsvError on malformed input. */
export function parseCsvBuffer(input: Buffer | string): Record<string, string>[] {
  return parseSync(input, CSV_OPTIONS) as unknown as Record<string, string>[];
}

/** A streaming parser with the same options (for uploads far larger than memory). */
export function createCsvStreamParser() {
  return parse(CSV_OPTIONS);
}
