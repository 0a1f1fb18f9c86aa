import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Keeps every activity that has a heartbeat timeout heartbeating while it runs, re-sending the last
 * details it gave (or those of its previous attempt): so short AWS calls, which never heartbeat
 * themselves, can have a timeout of seconds, and a worker killed in the middle of one is noticed (and
 * the activity retried elsewhere) within it instead of after the whole start-to-close timeout. The
 * activity's own progress heartbeats pass through unchanged. It also lets those activities receive a
 * cancellation, which only arrives with a heartbeat.
 */
export const keepHeartbeating: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(input, next) {
      const timeoutMs = context.info.heartbeatTimeoutMs;
      if (!timeoutMs) return next(input);
      const own = context.heartbeat;
      let last: unknown = context.info.heartbeatDetails;
      (context as { heartbeat: Context['heartbeat'] }).heartbeat = (details?: unknown) => {
        last = details;
        own(details);
      };
      const timer = setInterval(() => own(last), Math.max(100, Math.min(5_000, timeoutMs / 4)));
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});
