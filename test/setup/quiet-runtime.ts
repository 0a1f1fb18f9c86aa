import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { createTestLogger } from '../helpers/test-logger';

// Workers in tests log warnings and errors into the failed-test buffer (test/setup/test-environment.js),
// so a passing run prints results only. The Rust core prints to the console itself: only its errors.
// (Forwarding core logs to this logger would keep a runtime that no test uses alive after the tests.)
try {
  Runtime.install({
    logger: createTestLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), console: {} } },
  });
} catch {
  // Already installed in this process by an earlier test file; its logger writes to the same buffer.
}
