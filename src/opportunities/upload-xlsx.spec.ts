import ExcelJS from 'exceljs';
import { Readable } from 'node:stream';
import { cellText, excelSerialToDate, readXlsxRows } from './upload-xlsx';

/** Reads a workbook written by exceljs through the streaming reader; all rows with their sheet numbers. */
async function readBack(build: (wb: ExcelJS.Workbook) => void, worksheet: string | null = null) {
  const wb = new ExcelJS.Workbook();
  build(wb);
  const bytes = Buffer.from(await wb.xlsx.writeBuffer());
  const out: { header: readonly string[]; rows: string[][]; numbers: number[] } = { header: [], rows: [], numbers: [] };
  const { detected } = await readXlsxRows(Readable.from([bytes]), { worksheet, maxRows: 100, limitMessage: 'too many' }, (rows, header, numbers) => {
    out.header = header;
    out.rows.push(...rows);
    out.numbers.push(...numbers);
  });
  return { ...out, detected };
}

describe('xlsx cells as the row parsers read them', () => {
  it('Excel serial days (reference: Microsoft, "Date systems in Excel": 5 July 2011 is 40729 in the 1900 system, 39267 in the 1904 system)', () => {
    expect(excelSerialToDate(40729, false).toISOString()).toBe('2011-07-05T00:00:00.000Z');
    expect(excelSerialToDate(39267, true).toISOString()).toBe('2011-07-05T00:00:00.000Z');
    expect(excelSerialToDate(40729.75, false).toISOString()).toBe('2011-07-05T18:00:00.000Z');
  });

  it('texts: empty, trimmed strings, numbers at 15 significant digits, booleans, dates, date-formatted numbers, formulas, rich text, errors', () => {
    expect(cellText(null, undefined, false)).toBe('');
    expect(cellText(undefined, undefined, false)).toBe('');
    expect(cellText('  West ', undefined, false)).toBe('West');
    expect(cellText(0.1 + 0.2, 'General', false)).toBe('0.3');
    expect(cellText(-500, '#,##0.00', false)).toBe('-500');
    expect(cellText(1054.25, undefined, false)).toBe('1054.25');
    expect(cellText(true, undefined, false)).toBe('true');
    expect(cellText(new Date('2024-02-03T00:00:00Z'), 'yyyy-mm-dd', false)).toBe('2024-02-03');
    expect(cellText(new Date('2024-02-03T10:30:00Z'), 'yyyy-mm-dd hh:mm', false)).toBe('2024-02-03T10:30:00Z');
    expect(cellText(40729, 'dd/mm/yyyy', false)).toBe('2011-07-05');
    expect(cellText(40729, '0', false)).toBe('40729'); // no date format: a number, never guessed to be a day
    expect(cellText(40729, '"Day "0', false)).toBe('40729'); // quoted text is no date token
    expect(cellText({ formula: 'A1+1', result: 40729 }, 'yyyy-mm-dd', false)).toBe('2011-07-05');
    expect(cellText({ formula: 'B1&"x"', result: 'Wx' }, undefined, false)).toBe('Wx');
    expect(cellText({ richText: [{ text: 'Mül' }, { text: 'ler ' }] }, undefined, false)).toBe('Müller');
    expect(cellText({ error: '#N/A' }, undefined, false)).toBe('#N/A');
  });

  it('reads the first visible sheet by default, a named one on request; skips blank rows but keeps sheet row numbers; pads short rows', async () => {
    const build = (wb: ExcelJS.Workbook) => {
      const hidden = wb.addWorksheet('Hidden', { state: 'hidden' });
      hidden.addRow(['x']);
      const a = wb.addWorksheet('A');
      a.addRow([]);
      a.addRow(['id', 'day', 'n']);
      a.addRow(['1', new Date('2024-01-02T00:00:00Z'), 3]);
      a.addRow([]);
      a.addRow(['2']);
      const b = wb.addWorksheet('B');
      b.addRow(['k']);
      b.addRow(['v']);
    };
    const first = await readBack(build);
    expect(first.detected).toEqual({ format: 'xlsx', worksheet: 'A', worksheet_source: 'first', worksheets: ['Hidden', 'A', 'B'], header_row: 2 });
    expect(first.header).toEqual(['id', 'day', 'n']);
    expect(first.rows).toEqual([
      ['1', '2024-01-02', '3'],
      ['2', '', ''],
    ]);
    expect(first.numbers).toEqual([3, 5]);
    const b = await readBack(build, 'B');
    expect(b.rows).toEqual([['v']]);
    expect(b.numbers).toEqual([2]);
  });

  it('the 1904 date system of a workbook is honoured for date-formatted formula results', async () => {
    const { rows } = await readBack((wb) => {
      wb.properties.date1904 = true;
      const s = wb.addWorksheet('S');
      s.addRow(['d']);
      s.getCell('A2').value = { formula: '39267', result: 39267 } as ExcelJS.CellFormulaValue;
      s.getCell('A2').numFmt = 'yyyy-mm-dd';
    });
    expect(rows).toEqual([['2011-07-05']]);
  });

  it('too many rows: BATCH_TOO_LARGE with the limit', async () => {
    const wb = new ExcelJS.Workbook();
    const s = wb.addWorksheet('S');
    s.addRow(['id']);
    for (let i = 0; i < 5; i++) s.addRow([String(i)]);
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    await expect(readXlsxRows(Readable.from([bytes]), { worksheet: null, maxRows: 4, limitMessage: 'at most 4' }, () => undefined)).rejects.toMatchObject({
      code: 'BATCH_TOO_LARGE',
      message: 'at most 4',
    });
  });
});
