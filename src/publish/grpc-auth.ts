import type { Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ERR_UNAUTHENTICATED, type ShadowtapError } from '../core/errors.js';

/** Checks a call's metadata; returns the error to answer with, or undefined when allowed. */
export type CallAuthenticator = (metadata: Metadata) => ShadowtapError | undefined;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer-token check for DetectionService (`authorization: Bearer <token>`). Without a token
 * every call is allowed (the bind check in grpc-credentials.ts decides whether that is safe).
 * Both sides are hashed first so that timingSafeEqual compares equal lengths and the time
 * taken says nothing about the token, not even its length.
 */
export function createBearerAuth(token: string | undefined): CallAuthenticator {
  if (token === undefined) return () => undefined;
  const expected = digest(token);
  return (metadata) => {
    const values = metadata.get('authorization');
    if (values.length === 0) return ERR_UNAUTHENTICATED('missing authorization metadata (expected "Bearer <token>")');
    const value = values[0];
    if (values.length > 1 || typeof value !== 'string') return ERR_UNAUTHENTICATED('malformed authorization metadata');
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(value);
    if (!m) return ERR_UNAUTHENTICATED('authorization metadata is not "Bearer <token>"');
    return timingSafeEqual(digest(m[1]!), expected) ? undefined : ERR_UNAUTHENTICATED('invalid token');
  };
}
