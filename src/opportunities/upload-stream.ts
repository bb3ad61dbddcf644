import busboy from 'busboy';
import { PassThrough, Readable } from 'node:stream';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';

/** The content type of an `.xlsx` workbook (Office Open XML spreadsheet). */
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** What an opportunity upload holds, and how that was decided. */
export interface Upload {
  stream: Readable;
  kind: 'csv' | 'xlsx';
  /** `content-type` (of the body or of the multipart part), `file-name` (`.xlsx`/`.csv`), `magic` (the first bytes), `default` (CSV). */
  kindSource: 'content-type' | 'file-name' | 'magic' | 'default';
}

/** A multipart `file` part (or the whole body) with what the client said about it. */
interface FilePart {
  stream: Readable;
  filename: string | null;
  mimeType: string | null;
}

/** The ZIP local-file-header signature `PK\x03\x04` that every `.xlsx` starts with. */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** The OLE2 compound-file signature: a legacy `.xls`, or an `.xlsx` saved with a password (Excel encrypts it into one). */
export const OLE2_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * The uploaded file's byte stream of a request: the `file` part of a multipart/form-data body, or
 * a `text/csv` (`application/csv`) body as it is. Used by the CSV-only uploads (field history).
 * @throws UNSUPPORTED_MEDIA_TYPE (415) for another content type; MALFORMED_CSV (400) for a
 *   multipart body without a boundary or one busboy cannot read; VALIDATION_FAILED (400) without a `file` part
 */
export async function uploadStreamOf(req: Request): Promise<Readable> {
  return (await filePartOf(req, false)).stream;
}

/**
 * An opportunity upload (`POST /opportunities/batches/csv`): a CSV or an `.xlsx` workbook, sent as
 * the multipart `file` part or as the body (`text/csv`, or {@link XLSX_CONTENT_TYPE}). It is an
 * xlsx when the body's or the part's content type says so, else when the part's file name ends
 * in `.xlsx`, else when the bytes start with the ZIP signature; otherwise a CSV. The returned
 * stream yields every byte of the file (the sniffed head included). ZIP bytes are read as an xlsx
 * even when the client called them CSV (they cannot be one).
 * @throws as {@link uploadStreamOf}; UNSUPPORTED_XLSX (422) when the bytes are an OLE2 compound
 *   file (a password-protected workbook, or a legacy `.xls`)
 */
export async function uploadOf(req: Request): Promise<Upload> {
  const part = await filePartOf(req, true);
  const head = await sniffHead(part.stream, OLE2_MAGIC.length);
  const named = (part.filename ?? '').toLowerCase();
  if (startsWith(head.bytes, OLE2_MAGIC)) {
    head.stream.resume(); // drained unread
    throw new AppException(
      'UNSUPPORTED_XLSX',
      'The file is an encrypted (password-protected) workbook or a legacy .xls: save it without a password as .xlsx (Excel Workbook) or export it as CSV',
      { file_name: part.filename },
    );
  }
  const withHead = head.stream;
  const saysXlsx = part.mimeType?.toLowerCase().startsWith(XLSX_CONTENT_TYPE) ? 'content-type' : named.endsWith('.xlsx') ? 'file-name' : null;
  // Bytes that are a ZIP are no CSV, whatever the client said; a file said to be an xlsx is read as one (and refused when it is not).
  if (saysXlsx) return { stream: withHead, kind: 'xlsx', kindSource: saysXlsx };
  if (startsWith(head.bytes, ZIP_MAGIC)) return { stream: withHead, kind: 'xlsx', kindSource: 'magic' };
  return { stream: withHead, kind: 'csv', kindSource: part.mimeType && /^(text|application)\/csv\b/i.test(part.mimeType) ? 'content-type' : named.endsWith('.csv') ? 'file-name' : 'default' };
}

function startsWith(bytes: Buffer, magic: Buffer): boolean {
  return bytes.length >= magic.length && bytes.subarray(0, magic.length).equals(magic);
}

/**
 * Reads the first `n` bytes (fewer when the file is shorter) and returns them with a stream that
 * yields the whole file again, head included (a PassThrough: `pipe` resumes the source).
 */
function sniffHead(source: Readable, n: number): Promise<{ bytes: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = () => {
      source.off('readable', onReadable);
      source.off('end', finish);
      source.off('error', onError);
      const bytes = Buffer.concat(chunks);
      const out = new PassThrough();
      source.on('error', (err) => out.destroy(err));
      if (bytes.length) out.write(bytes);
      source.pipe(out);
      resolve({ bytes, stream: out });
    };
    const onError = (err: Error) => reject(err);
    const onReadable = () => {
      let chunk: Buffer | null;
      while (length < n && (chunk = source.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= n) finish();
    };
    source.on('readable', onReadable);
    source.on('end', finish);
    source.on('error', onError);
  });
}

function filePartOf(req: Request, xlsx: boolean): Promise<FilePart> {
  const type = String(req.headers['content-type'] ?? '');
  if (/^text\/csv\b|^application\/csv\b/i.test(type)) return Promise.resolve({ stream: req, filename: null, mimeType: type });
  if (xlsx && type.toLowerCase().startsWith(XLSX_CONTENT_TYPE)) return Promise.resolve({ stream: req, filename: null, mimeType: type });
  if (!/^multipart\/form-data\b/i.test(type)) {
    req.resume();
    return Promise.reject(
      new AppException(
        'UNSUPPORTED_MEDIA_TYPE',
        xlsx
          ? `Send the CSV or .xlsx as multipart/form-data (field "file"), as a text/csv body or as a ${XLSX_CONTENT_TYPE} body`
          : 'Send the CSV as multipart/form-data (field "file") or as a text/csv body',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    let bb: ReturnType<typeof busboy>;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1 } });
    } catch (err) {
      // busboy throws at once for a multipart Content-Type without a boundary parameter
      req.resume();
      reject(new AppException('MALFORMED_CSV', `Upload could not be read: ${(err as Error).message} (multipart/form-data needs a boundary)`));
      return;
    }
    let found = false;
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || found) {
        stream.resume();
        return;
      }
      found = true;
      resolve({ stream, filename: info?.filename ?? null, mimeType: info?.mimeType ?? null });
    });
    bb.on('error', (err) => reject(new AppException('MALFORMED_CSV', `Upload could not be read: ${(err as Error).message}`)));
    bb.on('close', () => {
      if (!found) reject(new AppException('VALIDATION_FAILED', `Send the ${xlsx ? 'CSV or .xlsx' : 'CSV'} as multipart field "file"`));
    });
    req.pipe(bb);
  });
}
