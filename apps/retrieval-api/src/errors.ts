// API errors: every failure is `{ error: { code, message } }` with a 4xx for bad input and 5xx only for our faults.
import type { ErrorRequestHandler } from 'express';
import { MulterError } from 'multer';
import { ZodError } from 'zod';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function zodMessage(e: ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

const MULTER: Record<string, [number, string]> = {
  LIMIT_FILE_SIZE: [413, 'image_too_large'],
  LIMIT_FILE_COUNT: [413, 'too_many_images'],
  LIMIT_FIELD_VALUE: [413, 'payload_too_large'],
  LIMIT_FIELD_COUNT: [413, 'payload_too_large'],
  LIMIT_PART_COUNT: [413, 'payload_too_large'],
  LIMIT_FIELD_KEY: [400, 'invalid_request'],
  LIMIT_UNEXPECTED_FILE: [400, 'unexpected_file'],
};

/** Maps any thrown error to a status + code (body-parser, multer, zod, ours). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return new ApiError(400, 'invalid_request', zodMessage(err));
  if (err instanceof MulterError) {
    const [status, code] = MULTER[err.code] ?? [400, 'invalid_multipart'];
    return new ApiError(status, code, `${err.field ? `${err.field}: ` : ''}${err.message}`);
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', e.message ?? 'request body too large');
  if (e?.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', `body: not valid JSON (${e.message})`);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new ApiError(e.status, 'bad_request', e.message ?? 'bad request');
  if (e?.message?.startsWith('Multipart') || e?.message?.includes('Boundary')) return new ApiError(400, 'invalid_multipart', e.message);
  return new ApiError(500, 'internal', 'internal server error');
}

export function errorHandler(log: (m: string) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const api = toApiError(err);
    if (api.status >= 500) log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    res.status(api.status).json({ error: { code: api.code, message: api.message } });
  };
}
