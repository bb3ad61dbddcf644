import chardet from 'chardet';
import iconv from 'iconv-lite';
import { Transform, TransformCallback } from 'node:stream';
import { AppException } from '../common/errors/app.exception';

/** The text encodings a CSV upload may be in (what Excel and CRM exports write). */
export const UPLOAD_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] as const;
export type UploadEncoding = (typeof UPLOAD_ENCODINGS)[number];

/** The cell delimiters detected (and accepted as an override). */
export const UPLOAD_DELIMITERS = [',', ';', '\t'] as const;
export type UploadDelimiter = (typeof UPLOAD_DELIMITERS)[number];

/** How an upload was read; reported in the upload response as `detected`. */
export interface DetectedFormat {
  delimiter: UploadDelimiter;
  encoding: UploadEncoding;
  /** true when the file starts with a byte order mark (it is stripped, never part of the first header). */
  bom: boolean;
  /** Where each choice came from: `override` (query parameter), `bom`, `utf8` (the head is valid UTF-8), `chardet`, `header` (delimiter counts). */
  source: { delimiter: 'override' | 'header' | 'default'; encoding: 'override' | 'bom' | 'utf8' | 'chardet' | 'fallback' };
}

/** Overrides from the query (`delimiter`, `encoding`); null = detect. */
export interface FormatOverride {
  delimiter: UploadDelimiter | null;
  encoding: UploadEncoding | null;
}

/** Bytes looked at before the choice is made (the rest streams through). */
export const DETECTION_HEAD_BYTES = 64 * 1024;

/** Data lines (after the header) whose delimiter counts must agree with the header's. */
const DELIMITER_SAMPLE_LINES = 20;

/**
 * Reads the query parameters `delimiter` (`,` `;` `tab` or a tab character) and `encoding`
 * (`utf-8`, `utf-16le`, `utf-16be`, `windows-1252`; `utf8`, `cp1252`, `latin1` accepted as aliases).
 * @throws VALIDATION_FAILED naming the parameter and the accepted values
 */
export function parseFormatOverride(delimiter: string | undefined, encoding: string | undefined): FormatOverride {
  const errors: { path: string; errors: string[] }[] = [];
  let d: UploadDelimiter | null = null;
  let e: UploadEncoding | null = null;
  if (delimiter !== undefined && typeof delimiter !== 'string') errors.push({ path: 'delimiter', errors: ['must be given once'] });
  else if (delimiter !== undefined && delimiter !== '') {
    const v = delimiter === 'tab' || delimiter === '\\t' ? '\t' : delimiter === 'comma' ? ',' : delimiter === 'semicolon' ? ';' : delimiter;
    if ((UPLOAD_DELIMITERS as readonly string[]).includes(v)) d = v as UploadDelimiter;
    else errors.push({ path: 'delimiter', errors: ["must be ',', ';' or 'tab'"] });
  }
  if (encoding !== undefined && typeof encoding !== 'string') errors.push({ path: 'encoding', errors: ['must be given once'] });
  else if (encoding !== undefined && encoding !== '') {
    const v = encoding.toLowerCase();
    const alias: Record<string, UploadEncoding> = { utf8: 'utf-8', cp1252: 'windows-1252', latin1: 'windows-1252', 'iso-8859-1': 'windows-1252', 'utf-16': 'utf-16le' };
    const canon = alias[v] ?? v;
    if ((UPLOAD_ENCODINGS as readonly string[]).includes(canon)) e = canon as UploadEncoding;
    else errors.push({ path: 'encoding', errors: [`must be one of ${UPLOAD_ENCODINGS.join(', ')}`] });
  }
  if (errors.length) throw new AppException('VALIDATION_FAILED', 'Bad upload format parameter(s)', errors);
  return { delimiter: d, encoding: e };
}

/**
 * The encoding of an upload from its first bytes: a byte order mark decides (UTF-8 EF BB BF,
 * UTF-16 LE FF FE, UTF-16 BE FE FF); without one, bytes that are valid UTF-8 are UTF-8; otherwise
 * chardet's guess when it is UTF-16, else Windows-1252 (what Excel's "CSV" writes on Western
 * Windows; ISO-8859-1 text reads the same in it).
 * @param head the first bytes (at most {@link DETECTION_HEAD_BYTES}); `complete` when it is the whole file
 */
export function detectEncoding(head: Buffer, complete: boolean): { encoding: UploadEncoding; bom: boolean; source: DetectedFormat['source']['encoding'] } {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bom: true, source: 'bom' };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bom: true, source: 'bom' };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bom: true, source: 'bom' };
  if (isUtf8(head, complete)) return { encoding: 'utf-8', bom: false, source: 'utf8' };
  const guess = (chardet.detect(head) ?? '').toLowerCase();
  if (guess === 'utf-16le' || guess === 'utf-16be') return { encoding: guess, bom: false, source: 'chardet' };
  return { encoding: 'windows-1252', bom: false, source: guess.startsWith('windows-1252') || guess.startsWith('iso-8859-1') ? 'chardet' : 'fallback' };
}

function isUtf8(head: Buffer, complete: boolean): boolean {
  // A cut head may end inside a multi-byte character: drop up to 3 trailing continuation/lead bytes.
  let end = head.length;
  if (!complete) {
    let k = 0;
    while (k < 3 && end - k - 1 >= 0 && (head[end - k - 1] & 0xc0) === 0x80) k++;
    if (end - k - 1 >= 0 && head[end - k - 1] >= 0xc0) end = end - k - 1;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/** Counts of each candidate delimiter outside double quotes, per logical line (quoted line breaks stay inside their line). */
function delimiterCounts(text: string, complete: boolean, maxLines: number): number[][] {
  const lines: number[][] = [];
  let counts = [0, 0, 0];
  let inQuotes = false;
  let blank = true;
  for (let i = 0; i < text.length && lines.length < maxLines; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && c === '\n') {
      if (!blank) lines.push(counts);
      counts = [0, 0, 0];
      blank = true;
      continue;
    } else if (!inQuotes) {
      const k = UPLOAD_DELIMITERS.indexOf(c as UploadDelimiter);
      if (k >= 0) counts[k]++;
    }
    if (c !== '\r' && c !== ' ') blank = false;
  }
  if (complete && !blank && lines.length < maxLines) lines.push(counts); // the last line has no line end
  return lines;
}

/**
 * The cell delimiter of a CSV from its first lines (decoded text): a candidate (`,` `;` tab) is
 * *consistent* when it occurs in the header and every sampled data line (up to 20) has as many
 * of it outside quotes as the header. One consistent candidate wins. Several: the one with the
 * most header occurrences wins when the others' are fewer (a `;` file with decimal commas in its
 * cells, e.g. "1,5", has no comma in its header); a tie is ambiguous. None consistent: the
 * candidate most frequent in the header (the row checker then reports the offending row); none
 * in the header at all: a one-column file, read with `,`.
 * @throws MALFORMED_CSV (`details.candidates`) when two candidates are equally plausible: pass `delimiter`
 */
export function detectDelimiter(text: string, complete: boolean): { delimiter: UploadDelimiter; source: 'header' | 'default' } {
  const lines = delimiterCounts(text, complete, DELIMITER_SAMPLE_LINES + 1);
  // Without the whole file, the last sampled line may be cut: leave it out unless it is the header.
  const sample = !complete && lines.length > 1 && text.lastIndexOf('\n') < text.length - 1 ? lines.slice(0, -1) : lines;
  if (sample.length === 0) return { delimiter: ',', source: 'default' };
  const header = sample[0];
  const consistent = [0, 1, 2].filter((k) => header[k] > 0 && sample.every((l) => l[k] === header[k]));
  const pick = (ks: number[]): UploadDelimiter | 'tie' => {
    const best = Math.max(...ks.map((k) => header[k]));
    const top = ks.filter((k) => header[k] === best);
    return top.length === 1 ? UPLOAD_DELIMITERS[top[0]] : 'tie';
  };
  let chosen: UploadDelimiter | 'tie';
  if (consistent.length > 0) chosen = pick(consistent);
  else if (header.some((n) => n > 0)) chosen = pick([0, 1, 2].filter((k) => header[k] > 0));
  else return { delimiter: ',', source: 'default' };
  if (chosen === 'tie') {
    const candidates = (consistent.length ? consistent : [0, 1, 2]).filter((k) => header[k] === Math.max(...header)).map((k) => UPLOAD_DELIMITERS[k]);
    throw new AppException(
      'MALFORMED_CSV',
      `The CSV delimiter is ambiguous: ${candidates.map((c) => JSON.stringify(c)).join(' and ')} split the header into as many columns; pass ?delimiter=, ; or tab`,
      { candidates },
    );
  }
  return { delimiter: chosen, source: 'header' };
}

/**
 * Decodes an upload to UTF-8 bytes as it streams (iconv-lite), after choosing its encoding and
 * delimiter from the first {@link DETECTION_HEAD_BYTES} (or the override). Write the raw bytes in;
 * read UTF-8 out (a byte order mark is removed). `detected` settles once the head is in (or
 * rejects with MALFORMED_CSV when the delimiter is ambiguous); nothing is emitted before.
 */
export class UploadDecoder extends Transform {
  readonly detected: Promise<DetectedFormat>;
  private resolveDetected!: (d: DetectedFormat) => void;
  private rejectDetected!: (err: Error) => void;
  private head: Buffer[] = [];
  private headBytes = 0;
  private decoder: ReturnType<typeof iconv.getDecoder> | null = null;

  constructor(private readonly override: FormatOverride) {
    super();
    this.detected = new Promise((resolve, reject) => {
      this.resolveDetected = resolve;
      this.rejectDetected = reject;
    });
    this.detected.catch(() => undefined); // observed by the caller
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.decoder) return done(null, this.utf8(this.decoder.write(chunk)));
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < DETECTION_HEAD_BYTES) return done();
    this.decide(false, done);
  }

  override _flush(done: TransformCallback): void {
    if (!this.decoder) {
      this.decide(true, (err, data) => {
        if (err) return done(err);
        if (data) this.push(data);
        this.finishDecoder(done);
      });
      return;
    }
    this.finishDecoder(done);
  }

  private finishDecoder(done: TransformCallback): void {
    const rest = this.decoder!.end();
    done(null, rest ? this.utf8(rest) : undefined);
  }

  private decide(complete: boolean, done: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    const found = detectEncoding(head, complete);
    const encoding = this.override.encoding ?? found.encoding;
    const bom = found.bom && (this.override.encoding === null || this.override.encoding === found.encoding);
    this.decoder = iconv.getDecoder(encoding, { stripBOM: true });
    const text = this.decoder.write(head);
    let delimiter: UploadDelimiter;
    let dsource: DetectedFormat['source']['delimiter'];
    if (this.override.delimiter) {
      delimiter = this.override.delimiter;
      dsource = 'override';
    } else {
      try {
        ({ delimiter, source: dsource } = detectDelimiter(text, complete));
      } catch (err) {
        this.rejectDetected(err as Error);
        return done(err as Error);
      }
    }
    this.resolveDetected({ delimiter, encoding, bom, source: { delimiter: dsource, encoding: this.override.encoding ? 'override' : found.source } });
    done(null, this.utf8(text));
  }

  private utf8(text: string): Buffer | undefined {
    return text ? Buffer.from(text, 'utf8') : undefined;
  }
}
