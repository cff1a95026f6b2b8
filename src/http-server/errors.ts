// Typed errors a route handler throws; the router turns them into a status code and a
// `{"detail": ...}` body (the agent-server's error shape). Anything else becomes a 500
// carrying only an error ID, so internal text never leaks to a caller.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail), { cause: options?.cause });
    this.name = 'HttpError';
    this.headers = options?.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

export const badRequest = (detail: unknown) => new HttpError(400, detail);
export const unauthorized = (detail: unknown = 'Unauthorized') => new HttpError(401, detail);
export const forbidden = (detail: unknown = 'Forbidden') => new HttpError(403, detail);
export const notFound = (detail: unknown = 'Not Found') => new HttpError(404, detail);
export const conflict = (detail: unknown) => new HttpError(409, detail);
/** `actualBytes` when the request declared its length; a streamed body is only known to be over. */
export const payloadTooLarge = (limitBytes: number, actualBytes?: number) =>
  new HttpError(413, `request body${actualBytes === undefined ? '' : ` of ${actualBytes} bytes`} is over the limit of ${limitBytes} bytes`);
export const unprocessable = (detail: unknown) => new HttpError(422, detail);
export const serviceUnavailable = (detail: unknown) => new HttpError(503, detail);
