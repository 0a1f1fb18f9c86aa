import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/**
 * Structured (JSON lines) logging for workers and scripts, and an adapter so the Temporal runtime and
 * its workers log through the same pino instance.
 */
export function createLogger(level: string, name = 'llmtwin'): PinoLogger {
  return pino({ name, level, base: { pid: process.pid } });
}

export class TemporalPinoLogger implements Logger {
  constructor(private readonly pinoLogger: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    this.pinoLogger[method](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.pinoLogger.trace(meta ?? {}, message);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.pinoLogger.debug(meta ?? {}, message);
  }
  info(message: string, meta?: LogMetadata): void {
    this.pinoLogger.info(meta ?? {}, message);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.pinoLogger.warn(meta ?? {}, message);
  }
  error(message: string, meta?: LogMetadata): void {
    this.pinoLogger.error(meta ?? {}, message);
  }
}
