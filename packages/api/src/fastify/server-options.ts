import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../problem-details.js';

/** Fastify factory options that answer the errors raised before routing as problem details. */
export interface ProblemServerOptions {
  /** Bad percent-encoding (400 `BAD_URL`), a path parameter over `maxParamLength` (414 `URI_TOO_LONG`). */
  frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;
  /** Malformed requests Node's parser refuses: headers too large (431), timeouts (408), others (400). */
  clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => void;
}

const FRAMEWORK: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', detail: 'The URL holds an invalid percent-encoded sequence.' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG', detail: 'A path segment is longer than allowed.' },
};

const CLIENT: Record<string, { status: number; code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request line and headers are larger than this server accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', detail: 'The request took too long to arrive.' },
};

const MALFORMED = { status: 400, code: 'MALFORMED_REQUEST', detail: 'The request is not valid HTTP.' };

/**
 * Options to spread into `Fastify({ ...problemServerOptions() })`: the errors Fastify and Node raise
 * before any hook runs (and so before the error handler of `errorHandlerPlugin` can see them) are
 * answered as `application/problem+json` too, never echoing the offending URL or headers.
 */
export function problemServerOptions(): ProblemServerOptions {
  return {
    frameworkErrors(error, request, reply) {
      const known = FRAMEWORK[error.code] ?? {
        status: httpStatus(error.statusCode) ?? 400,
        code: error.code,
        detail: STATUS_CODES[error.statusCode ?? 400] ?? 'Bad request',
      };
      request.log.info({ code: error.code, status: known.status }, 'request refused before routing');
      void reply
        .code(known.status)
        .type(PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(problem(known, request.id)));
    },
    clientErrorHandler(error, socket) {
      // A reset connection has nobody to answer (Node's own handler does the same).
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const known = (error.code === undefined ? undefined : CLIENT[error.code]) ?? MALFORMED;
      if (socket.writable) {
        const body = JSON.stringify(problem(known, undefined));
        socket.write(
          `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status] ?? 'Error'}\r\n` +
            `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(error);
    },
  };
}

function problem(known: { status: number; code: string; detail: string }, requestId: string | undefined) {
  const body: ProblemDetails = {
    type: 'about:blank',
    title: STATUS_CODES[known.status] ?? 'Error',
    status: known.status,
    detail: known.detail,
    code: known.code,
  };
  if (requestId !== undefined) body.requestId = requestId;
  return body;
}

function httpStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}
