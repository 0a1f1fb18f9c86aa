import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';

/**
 * Bad input to the data stage (missing source, nothing usable, unreadable file): a person must fix
 * something, so it fails at once instead of being retried.
 */
export function dataInputFailure(message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ERROR_TYPES.validation,
    nonRetryable: true,
    message,
    cause: cause instanceof Error ? cause : undefined,
  });
}

/** Error codes that mean "this path cannot be read as it is" rather than "try again later". */
export const UNREADABLE_CODES = new Set(['EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
