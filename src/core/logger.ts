import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * The one root logger. Components take `logger.child({ component: '…' })`.
 * Secrets never reach logs: the redact paths cover the header names that carry them.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'shadowtap',
      level,
      redact: {
        paths: [
          'headers.authorization',
          'headers.cookie',
          'headers["set-cookie"]',
          'headers["proxy-authorization"]',
          'headers["x-api-key"]',
          '*.token',
          '*.password',
        ],
        censor: '[REDACTED]',
      },
    },
    destination ?? pino.destination(2),
  );
}

/** A logger that discards everything (tests, library use without logging). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
