/**
 * Where retries live (issue 16): Temporal retries whole activities, in time, with backoff and the
 * error classifier; the SDK retries each call a few times (aws.maxAttempts) so that one throttled or
 * dropped call does not re-run a multi-call activity from its start. The SDK's standard strategy also
 * keeps one retry budget per client, shared by every activity in the worker: at a 40 % fault rate it
 * fell from 500 tokens to 8 within 200 calls, after which no call was retried at all and whole
 * activities failed instead (test/unit/shared/aws-retry.test.ts measures both). A worker's calls are
 * already paced by Temporal's backoff, so this strategy keeps the per-call attempts and backoff with
 * full jitter, and no process-wide budget.
 */

/** The retry token the SDK's retry middleware asks for: how many retries so far, how long to wait before the next. */
export interface PerCallRetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

interface RetryErrorInfo {
  errorType: 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  retryAfterHint?: Date;
}

/** Backoff bases as the SDK's own (100 ms, throttling 500 ms), capped at 20 s. */
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAXIMUM_DELAY_MS = 20_000;

export class PerCallRetryStrategy {
  readonly mode = 'standard';

  constructor(
    private readonly maxAttempts: number,
    private readonly random: () => number = Math.random,
  ) {}

  acquireInitialRetryToken(): Promise<PerCallRetryToken> {
    return Promise.resolve(token(0, 0));
  }

  refreshRetryTokenForRetry(previous: PerCallRetryToken, errorInfo: RetryErrorInfo): Promise<PerCallRetryToken> {
    const retries = previous.getRetryCount() + 1;
    // Throttling and transient errors (5xx, resets, timeouts) only; a client error is the classifier's to report.
    const retryable = errorInfo.errorType === 'THROTTLING' || errorInfo.errorType === 'TRANSIENT';
    if (!retryable || retries >= this.maxAttempts) return Promise.reject(new Error('No retry token available'));
    const base = errorInfo.errorType === 'THROTTLING' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    let delay = Math.floor(this.random() * Math.min(MAXIMUM_DELAY_MS, base * 2 ** previous.getRetryCount()));
    if (errorInfo.retryAfterHint instanceof Date)
      delay = Math.max(delay, Math.min(errorInfo.retryAfterHint.getTime() - Date.now(), MAXIMUM_DELAY_MS));
    return Promise.resolve(token(retries, delay));
  }

  recordSuccess(): void {
    // No budget to refill.
  }
}

function token(retries: number, delayMs: number): PerCallRetryToken {
  return { getRetryCount: () => retries, getRetryDelay: () => delayMs };
}
