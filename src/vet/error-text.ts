/**
 * Errors as vet reports them: one line of the error and its causes (the SDK and Node wrap the
 * reason a connection failed two or three levels down), and whether a deadline ended it. Pure.
 */
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';

import { VetTimeoutError } from './http-client.js';

const MAX_DEPTH = 4;
const MAX_LENGTH = 500;

/** The messages of the error and its causes, deduplicated, on one line. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < MAX_DEPTH; depth++) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : 'unknown error';
    if (message !== '' && !parts.some((part) => part.includes(message))) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ').replace(/\s+/g, ' ').slice(0, MAX_LENGTH);
}

/** Whether a deadline (ours, an AbortSignal.timeout, or the SDK's request timeout) ended it. */
export function isTimeoutError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < MAX_DEPTH * 2; depth++) {
    if (e instanceof VetTimeoutError || e.name === 'TimeoutError') return true;
    if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout) return true;
    e = e.cause;
  }
  return false;
}
