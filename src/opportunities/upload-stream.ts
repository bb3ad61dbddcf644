import busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';

/**
 * The uploaded file's byte stream of a request: the `file` part of a multipart/form-data body, or
 * a `text/csv` (`application/csv`) body as it is. The same contract as `POST /opportunities/batches/csv`
 * (batch.service.ts keeps its own copy until the xlsx upload work there has landed).
 * @throws UNSUPPORTED_MEDIA_TYPE (415) for another content type; MALFORMED_CSV (400) for a
 *   multipart body without a boundary or one busboy cannot read; VALIDATION_FAILED (400) without a `file` part
 */
export function uploadStreamOf(req: Request): Promise<Readable> {
  const type = String(req.headers['content-type'] ?? '');
  if (/^text\/csv\b|^application\/csv\b/i.test(type)) return Promise.resolve(req);
  if (!/^multipart\/form-data\b/i.test(type)) {
    req.resume();
    return Promise.reject(new AppException('UNSUPPORTED_MEDIA_TYPE', 'Send the CSV as multipart/form-data (field "file") or as a text/csv body'));
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
    bb.on('file', (name, stream) => {
      if (name !== 'file' || found) {
        stream.resume();
        return;
      }
      found = true;
      resolve(stream);
    });
    bb.on('error', (err) => reject(new AppException('MALFORMED_CSV', `Upload could not be read: ${(err as Error).message}`)));
    bb.on('close', () => {
      if (!found) reject(new AppException('VALIDATION_FAILED', 'Send the CSV as multipart field "file"'));
    });
    req.pipe(bb);
  });
}
