import { Logger } from '@aws-lambda-powertools/logger';

/** What the flows need of a logger; tests pass a recording one. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Structured JSON logs. Callers pass ids and codes, never keys, signatures, bodies or personal data. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'koogallery-isv' });

export const log: Log = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};
