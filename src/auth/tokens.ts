import { createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** Claims of the access tokens this service issues. */
export interface AccessClaims {
  sub: string;
  /** `admin` tokens open management paths; `member` tokens never do. */
  kind: 'admin' | 'member';
  username?: string;
  /** Store of a member token. */
  storeId?: string;
}

export function signAccessToken(claims: AccessClaims, secret: string, ttlSeconds: number): string {
  const { sub, ...rest } = claims;
  return jwt.sign(rest, secret, { subject: sub, expiresIn: ttlSeconds, algorithm: 'HS256' });
}

/** Returns the claims of a valid token, or undefined for a bad, tampered or expired one. */
export function verifyAccessToken(token: string, secret: string): AccessClaims | undefined {
  try {
    const payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload !== 'object' || typeof payload.sub !== 'string') return undefined;
    if (payload.kind !== 'admin' && payload.kind !== 'member') return undefined;
    return { sub: payload.sub, kind: payload.kind, username: payload.username, storeId: payload.storeId };
  } catch {
    return undefined;
  }
}

/** Opaque random secrets (refresh tokens, API keys); only their SHA-256 is stored. */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
