import iconv from 'iconv-lite';
import { Readable } from 'node:stream';
import { AppException } from '../common/errors/app.exception';
import { DETECTION_HEAD_BYTES, detectDelimiter, detectEncoding, parseFormatOverride, UploadDecoder } from './upload-decoding';

/** Issue 13: the detection rules of upload-decoding.ts on small inputs, and streaming past the detection head. */
describe('upload decoding', () => {
  it.each([
    ['a,b,c\n1,2,3\n', ','],
    ['a;b;c\n1;2;3\n', ';'],
    ['a\tb\tc\n1\t2\t3\n', '\t'],
    ['a;b\n"1,5";"2,5"\n3;4\n', ';'], // commas inside quoted cells do not count
    ['a;b\n1,5;2,5\n3;4\n', ';'], // decimal commas: the comma is not in the header
    ['a;b;c\n1;2\n', ';'], // none consistent: the most frequent in the header (the row check reports the row)
    ['opportunity_id\nA\n', ','], // one column
  ])('%j → delimiter %j', (text, expected) => {
    expect(detectDelimiter(text, true).delimiter).toBe(expected);
  });

  it('a tie is ambiguous: MALFORMED_CSV naming the candidates', () => {
    let err: unknown;
    try {
      detectDelimiter('a;b,c\n1;2,3\n', true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppException);
    expect(err).toMatchObject({ code: 'MALFORMED_CSV', details: { candidates: [',', ';'] } });
  });

  it.each([
    [Buffer.from('\uFEFFa,b\n', 'utf8'), 'utf-8', true],
    [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')]), 'utf-16le', true],
    [Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode('a,b\n', 'utf-16be')]), 'utf-16be', true],
    [Buffer.from('a,Müller\n', 'utf8'), 'utf-8', false],
    [iconv.encode('a;Müller;café;€\n', 'windows-1252'), 'windows-1252', false],
  ])('encoding of %j', (bytes, encoding, bom) => {
    expect(detectEncoding(bytes, true)).toMatchObject({ encoding, bom });
  });

  it('a UTF-8 head cut inside a character is still UTF-8', () => {
    const bytes = Buffer.from('ab€', 'utf8');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 1), false).encoding).toBe('utf-8');
  });

  it.each(['utf-8', 'windows-1252', 'utf-16le'] as const)('streams a %s file larger than the head in odd chunks to the same UTF-8 text', async (enc) => {
    const lines = ['id;account'];
    for (let i = 0, n = 0; n < 3 * DETECTION_HEAD_BYTES; i++) n += lines[lines.push(`${i};Müller € café ${i}`) - 1].length + 2;
    const text = lines.join('\r\n') + '\r\n';
    const bytes = enc === 'utf-16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, enc)]) : iconv.encode(text, enc);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4093) chunks.push(bytes.subarray(i, i + 4093));
    const decoder = new UploadDecoder({ delimiter: null, encoding: null });
    Readable.from(chunks).pipe(decoder);
    const detected = await decoder.detected;
    const out: Buffer[] = [];
    for await (const c of decoder) out.push(c as Buffer);
    expect(detected).toMatchObject({ delimiter: ';', encoding: enc });
    expect(Buffer.concat(out).toString('utf8')).toBe(text);
  });

  it('overrides: aliases accepted, others a VALIDATION_FAILED per parameter', () => {
    expect(parseFormatOverride('tab', 'cp1252')).toEqual({ delimiter: '\t', encoding: 'windows-1252' });
    expect(parseFormatOverride(undefined, undefined)).toEqual({ delimiter: null, encoding: null });
    expect(() => parseFormatOverride('|', 'ebcdic')).toThrow(AppException);
  });
});
