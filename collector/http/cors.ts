// CORS for browser exporters: the OTLP POST carries Authorization, Content-Encoding and the batch
// id header, so every browser sends a preflight first. Keys are bearer tokens, never cookies, so
// allowing any origin leaks nothing.
import type { ServerResponse } from 'node:http';
import { BATCH_ID_HEADER } from '../../runtime/telemetry/otlp-schema.ts';

export function corsHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': 'Retry-After, Kiln-Batch',
    ...(origin === '*' ? {} : { Vary: 'Origin' }),
  };
}

export function sendPreflight(res: ServerResponse, origin: string): void {
  res.writeHead(204, {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
    'Access-Control-Allow-Headers': `Content-Type, Content-Encoding, Authorization, ${BATCH_ID_HEADER}`,
    'Access-Control-Max-Age': '86400',
    'Content-Length': '0',
  });
  res.end();
}
