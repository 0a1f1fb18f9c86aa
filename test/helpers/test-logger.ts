import { inspect } from 'node:util';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/**
 * The logger of everything a test runs (the Temporal runtime, workers, mock activity contexts). Lines
 * go to the test environment's buffer (test/setup/test-environment.js), which prints them only when
 * the test fails; outside jest they go to stderr.
 */
const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

type Sink = (line: string) => void;

function write(line: string): void {
  const sink = (globalThis as { __llmtwinTestLog?: Sink }).__llmtwinTestLog;
  if (sink) sink(line);
  else process.stderr.write(`${line}\n`);
}

export function createTestLogger(minimum: LogLevel = 'INFO'): Logger {
  const enabled = (level: LogLevel) => LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    if (enabled(level))
      write(
        `${new Date().toISOString()} [${level}] ${message}${meta && Object.keys(meta).length > 0 ? ` ${inspect(meta, { depth: 4, breakLength: 160 })}` : ''}`,
      );
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

export const testLogger = createTestLogger();
