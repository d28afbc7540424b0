/** The servers the browser tests run against; playwright.config.ts starts them. */
export const SMTP_SINK = { smtpPort: 2525, httpPort: 2526 } as const;

export const TEST_SECRET = 'e2e-test-secret-0123456789abcdefghijkl';

/** Latchkey with mail over SMTP to the sink: the main journey. */
export const SMTP_APP = { port: 4173, origin: 'http://localhost:4173', dataDir: '.tmp/e2e-smtp' } as const;
/** Latchkey without SMTP: codes land in the development outbox at /dev/mailbox. */
export const OUTBOX_APP = { port: 4174, origin: 'http://localhost:4174', dataDir: '.tmp/e2e-outbox' } as const;
/** Latchkey with NODE_ENV=production. */
export const PRODUCTION_APP = { port: 4175, origin: 'http://localhost:4175', dataDir: '.tmp/e2e-production' } as const;
