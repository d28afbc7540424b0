import type { SessionRecord, SessionRows, UserRecord } from '../db/port';
import type { Session, User } from './better-auth';

export type { StoredSession } from '../db/port';

/**
 * The validator's view of the session table (the storage port's sessions, db/port.ts): a
 * lookup by token per request and one guarded UPDATE per refresh. Ending a session is
 * sessions.ts's job (database first, then the Redis copy).
 */
export type SessionStore = Pick<SessionRows, 'findByToken' | 'extend'>;

/** `Row` as the `Typed` it must be: stops compiling when the port's rows and Better Auth's types part. */
type Typed<Type, Row extends Type> = Row;
/** The port's session and user rows are Better Auth's Session and User. */
export type StoredTypes = [Typed<Session, SessionRecord>, Typed<User, UserRecord>];
