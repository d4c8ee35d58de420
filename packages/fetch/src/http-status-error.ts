import { ResilienceError, isResilienceError } from '@palisade/core';

/**
 * A response whose status is retryable (`retryOnStatus`), turned into a failure inside the pipeline
 * so that retry, hedge and the circuit breaker see it as one. It never reaches your code from
 * `createFetch`: when the pipeline ends on it, the `Response` itself is returned, as `fetch` would.
 * You meet it in events (`retry`, `failure`) and in your own `retryOn`/`isFailure` predicates.
 */
export class HttpStatusError extends ResilienceError {
  /** The response, with its body unread. */
  readonly response: Response;
  /** `response.status`. */
  readonly status: number;
  /** The request method. */
  readonly method: string;

  /**
   * @param retryAfterMs the wait the `Retry-After` header asked for, if any: retry honours it as
   *   the floor of its next delay
   */
  constructor(response: Response, method: string, retryAfterMs?: number) {
    const { status } = response;
    const text = response.statusText ? ` ${response.statusText}` : '';
    super('PALISADE_HTTP_STATUS', `HTTP ${status}${text} from ${method} ${describeUrl(response.url)}`, {
      policy: 'fetch',
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    this.response = response;
    this.status = status;
    this.method = method;
  }
}

/** Origin and path only: a query string may hold secrets that have no place in logs. */
function describeUrl(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** True for an {@link HttpStatusError}, even from a second copy of the package. */
export function isHttpStatusError(error: unknown): error is HttpStatusError {
  return isResilienceError(error) && error.code === 'PALISADE_HTTP_STATUS';
}
