// Response helpers. Errors follow OTLP/HTTP: a JSON google.rpc.Status ({ code, message }) with the
// HTTP status that tells a client whether to retry (429/503 with Retry-After) or give up (4xx).
import type { ServerResponse } from 'node:http';

/** gRPC status codes used in google.rpc.Status bodies. */
const RPC_CODE: Readonly<Record<number, number>> = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 413: 8, 415: 3, 421: 7, 429: 8, 500: 13, 503: 14 };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code: RPC_CODE[status] ?? 2, message }, headers);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
