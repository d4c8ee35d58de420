import { isResilienceError, isRejection } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { HttpStatusError, isHttpStatusError } from '../src/index.js';

describe('HttpStatusError', () => {
  it('carries the response, status, method and Retry-After, as a palisade error that is no rejection', () => {
    const response = new Response('busy', { status: 503, statusText: 'Service Unavailable' });
    const error = new HttpStatusError(response, 'GET', 2_000);
    expect(error).toMatchObject({
      name: 'HttpStatusError',
      code: 'PALISADE_HTTP_STATUS',
      policy: 'fetch',
      status: 503,
      method: 'GET',
      retryAfterMs: 2_000,
    });
    expect(error.response).toBe(response);
    expect(error.message).toBe('HTTP 503 Service Unavailable from GET ');
    expect(isResilienceError(error)).toBe(true);
    expect(isHttpStatusError(error)).toBe(true);
    // Retries and breakers treat it as a failure of the dependency, not as palisade refusing.
    expect(isRejection(error)).toBe(false);
    expect(new HttpStatusError(new Response(null, { status: 500 }), 'PUT').retryAfterMs).toBeUndefined();
  });

  it('keeps query strings (which may hold secrets) out of its message', () => {
    const response = new Response(null, { status: 502 });
    Object.defineProperty(response, 'url', { value: 'https://api.example.com/v1/x?token=secret#frag' });
    expect(new HttpStatusError(response, 'GET').message).toBe('HTTP 502 from GET https://api.example.com/v1/x');
  });

  it('isHttpStatusError() is false for anything else', () => {
    expect(isHttpStatusError(new Error('x'))).toBe(false);
    expect(isHttpStatusError(undefined)).toBe(false);
  });
});
