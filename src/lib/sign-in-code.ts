/**
 * What a person is told about an emailed code, shared by the pages and the server that checks
 * it (server/auth/codes.ts), so the form and the check never disagree.
 */

/** Digits of a code: chosen from the guessing bound in docs/SECURITY.md ("Sign-in codes"). */
export const CODE_DIGITS = 8;
export const CODE_LIFETIME_MINUTES = 5;
/** Wrong tries a code survives; the next try, right or wrong, is refused. */
export const CODE_TRIES = 3;
