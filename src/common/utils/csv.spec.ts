import { parse as csvParseSync } from 'csv-parse/sync';
import { Readable } from 'node:stream';
import { CsvFormatError, MAX_CSV_LINE_CHARS, parseCsvBuffer, readCsvStream, toRecord } from './csv';

/** The csv-parse options PilotLab used before papaparse (kept here as the parity oracle). */
const CSV_PARSE_BEFORE = {
  bom: true,
  columns: (header: string[]) => header.map((h) => h.trim()),
  trim: true,
  skip_empty_lines: true,
  relax_column_count: false,
};

/** Streams `text` to readCsvStream in pieces of `size` bytes (splitting characters and quotes). */
async function streamed(text: string | Buffer, size: number, slow = false) {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  const out: Record<string, string>[] = [];
  const result = await readCsvStream(Readable.from(pieces, { objectMode: false }), (rows, header) => {
    out.push(...rows.map((row) => toRecord(header, row)));
    // A slow consumer: every slice makes the reader wait (backpressure path).
    return slow ? new Promise<void>((r) => setTimeout(r, 1)) : undefined;
  });
  return { out, result };
}

// Well-formed files that both parsers must read the same way.
const CORPUS: Record<string, string> = {
  'plain LF': 'a,b,c\n1,2,3\n4,5,6\n',
  'CRLF, no final newline': 'a,b,c\r\n1,2,3\r\n4,5,6',
  'BOM and quoted header (P18)': '\uFEFF"opportunity_id","territory","amount","close_date"\r\n"O-1","West","$1,200.00","2024-03-04"\r\n"O-2","East","1200.5",""\r\n',
  'quoted commas, escaped quotes, line breaks inside quotes': 'id,note,amount\n1,"a, b","$1,000.00"\n2,"say ""hi""",3\n3,"two\nlines",4\n4,"crlf\r\ninside",5\n',
  'blank lines and padded cells': 'id , name\n\n 1 ,  x  \n\n2,y\n\n',
  'empty cells and a trailing empty column': 'a,b,c\n1,,\n,,3\n',
  'unicode': 'id,name\n1,Zoë Ångström\n2,東京 🚀\n',
  'closing quote then spaces': 'a,b\n"x"  ,"y"\t\n',
};

describe('CSV contract (papaparse underneath)', () => {
  it.each(Object.entries(CORPUS))('%s: same records as csv-parse with the former options', (_name, text) => {
    const expected = csvParseSync(text, CSV_PARSE_BEFORE) as Record<string, string>[];
    expect(expected.length).toBeGreaterThan(0);
    expect(parseCsvBuffer(text)).toEqual(expected);
  });

  it.each(Object.entries(CORPUS))('%s: streamed in 1-, 3- and 7-byte pieces, slow consumer too, same records', async (_name, text) => {
    const expected = parseCsvBuffer(text);
    for (const size of [1, 3, 7]) {
      const { out, result } = await streamed(text, size, size === 3);
      expect(out).toEqual(expected);
      expect(result.records).toBe(expected.length);
    }
  });

  it('P18: the BOM does not stick to the first header, and the values are exact', () => {
    const rows = parseCsvBuffer(Buffer.from(CORPUS['BOM and quoted header (P18)'], 'utf8'));
    expect(Object.keys(rows[0])).toEqual(['opportunity_id', 'territory', 'amount', 'close_date']);
    expect(rows).toEqual([
      { opportunity_id: 'O-1', territory: 'West', amount: '$1,200.00', close_date: '2024-03-04' },
      { opportunity_id: 'O-2', territory: 'East', amount: '1200.5', close_date: '' },
    ]);
  });

  it('mixed LF and CRLF line ends are read (csv-parse refused them: it fixed the line end from the first line)', async () => {
    const text = 'a,b\r\n1,"2"\n3,4\r\n';
    expect(() => csvParseSync(text, CSV_PARSE_BEFORE)).toThrow(/Invalid Closing Quote/);
    const expected = [
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ];
    expect(parseCsvBuffer(text)).toEqual(expected);
    expect((await streamed(text, 1)).out).toEqual(expected);
  });

  it('a quote inside an unquoted cell is kept as text', () => {
    expect(parseCsvBuffer('id,product\n1,27" monitor\n')).toEqual([{ id: '1', product: '27" monitor' }]);
  });

  it('a header only gives no records; an empty input gives none', () => {
    expect(parseCsvBuffer('a,b\r\n')).toEqual([]);
    expect(parseCsvBuffer('')).toEqual([]);
  });

  const MALFORMED: [string, string, RegExp][] = [
    ['an unterminated quoted cell', 'a,b\n1,"open\n2,3\n', /unterminated|Quoted field/i],
    ['text after a closing quote', 'a,b\n1,"x"y\n', /quote/i],
    ['a row with too many cells', 'a,b\n1,2\n3,4,5\n', /data row 2 has 3 cells; the header has 2/],
    ['a row with too few cells', 'a,b,c\n1,2,3\n4\n', /data row 2 has 1 cells; the header has 3/],
    ['whitespace before an opening quote', 'a,b\n1, "x,y"\n', /whitespace before an opening quote in data row 1/],
    ['a repeated header, ignoring case', 'id,Amount,amount\n1,2,3\n', /repeated column name\(s\) in the header: amount/],
  ];

  it.each(MALFORMED)('refuses %s (whole file)', async (_name, text, message) => {
    expect(() => parseCsvBuffer(text)).toThrow(CsvFormatError);
    expect(() => parseCsvBuffer(text)).toThrow(message);
    await expect(streamed(text, 4)).rejects.toThrow(message);
  });

  it('a multi-byte character split across chunks is decoded whole', async () => {
    const text = Buffer.from('id,name\n1,Zoë\n2,🚀🚀\n', 'utf8');
    const { out } = await streamed(text, 1);
    expect(out).toEqual([
      { id: '1', name: 'Zoë' },
      { id: '2', name: '🚀🚀' },
    ]);
  });

  it('streams a large file in order, in slices, with every record once', async () => {
    const n = 20_000;
    const lines = ['id,amount,note'];
    for (let i = 1; i <= n; i++) lines.push(`${i},"$${i},00",${i % 7 === 0 ? '"multi\nline"' : 'x'}`);
    const slices: number[] = [];
    let next = 1;
    const result = await readCsvStream(Readable.from([Buffer.from(lines.join('\n'))]), (rows, header) => {
      slices.push(rows.length);
      expect(header).toEqual(['id', 'amount', 'note']);
      for (const r of rows) expect(Number(r[0])).toBe(next++);
      return new Promise<void>((r) => setImmediate(r));
    });
    expect(result.records).toBe(n);
    expect(next).toBe(n + 1);
    expect(slices.length).toBeGreaterThan(1);
  });

  it('an error thrown by the consumer stops reading and is what the caller gets', async () => {
    const text = 'a\n' + Array.from({ length: 50_000 }, (_, i) => String(i)).join('\n');
    let calls = 0;
    const read = readCsvStream(Readable.from([Buffer.from(text.slice(0, 100_000)), Buffer.from(text.slice(100_000))]), () => {
      calls++;
      throw new Error('too many rows');
    });
    await expect(read).rejects.toThrow('too many rows');
    expect(calls).toBe(1);
  });

  it('refuses a line longer than MAX_CSV_LINE_CHARS instead of buffering it', async () => {
    const long = 'a,b\n1,"' + 'x'.repeat(MAX_CSV_LINE_CHARS + 10);
    await expect(streamed(long, 1 << 20)).rejects.toThrow(/a CSV line is longer than/);
  });

  it('a failing input stream rejects instead of hanging', async () => {
    const input = new Readable({ read() {} });
    const read = readCsvStream(input, () => undefined);
    input.push('a,b\n1,2\n');
    input.destroy(new Error('socket hang up'));
    await expect(read).rejects.toThrow('socket hang up');
  });
});
