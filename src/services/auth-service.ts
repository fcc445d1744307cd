import type { AppConfig } from '../config.ts';
import { isUuid } from '../criteria/params.ts';
import { AccessError, ValidationFailed, fieldError } from '../errors.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { newSecret, sha256, signAccessToken, verifyAccessToken, type AccessClaims } from '../auth/tokens.ts';

/** Who is calling, resolved once per request from its headers. */
export type Viewer =
  | { kind: 'admin'; adminId: string; username: string; allStores: boolean; storeIds: ReadonlySet<string> }
  | { kind: 'member'; memberId: string; storeId: string };

export interface TokenPair {
  token: string;
  refresh_token: string;
}

export const API_KEY_PREFIX = 'sgk_';

const tooManyAttempts = () => new AccessError(429, 'Too many failed logins for this username; try again later.');

export class AuthService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: AppConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Reads `Authorization: Bearer <jwt>` or `X-AUTH-TOKEN: <api key>`.
   * Returns null when neither is sent; throws 401 when what was sent is not valid.
   */
  async authenticate(headers: Headers): Promise<Viewer | null> {
    const authorization = headers.get('authorization');
    const apiKey = headers.get('x-auth-token');
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      const claims = match && verifyAccessToken(match[1], this.config.jwtSecret);
      if (!claims) throw new AccessError(401, 'Invalid or expired token.');
      if (claims.kind === 'member') return { kind: 'member', memberId: claims.sub, storeId: claims.storeId ?? '' };
      return this.adminViewer(claims.sub);
    }
    if (apiKey) {
      const key = await this.prisma.apiKey.findUnique({ where: { keyHash: sha256(apiKey.trim()) } });
      if (!key || key.revokedAt) throw new AccessError(401, 'Invalid or revoked API key.');
      return this.adminViewer(key.adminId);
    }
    return null;
  }

  private async adminViewer(adminId: string): Promise<Viewer> {
    const admin = await this.prisma.admin.findUnique({ where: { id: adminId }, include: { stores: true } });
    if (!admin) throw new AccessError(401, 'Invalid or expired token.');
    return {
      kind: 'admin',
      adminId: admin.id,
      username: admin.username,
      allStores: admin.allStores,
      storeIds: new Set(admin.stores.map((link) => link.storeId)),
    };
  }

  async adminLogin(username: string, password: string): Promise<TokenPair> {
    await this.countAttempt(username);
    const admin = await this.prisma.admin.findUnique({ where: { username } });
    // Verify against a dummy hash for unknown users too, so response time does not reveal them.
    const valid = await verifyPassword(password, admin?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!admin || !valid) throw new AccessError(401, 'Invalid credentials.');
    await this.forgetAttempts(username);
    return this.issueAdminTokens(admin.id, admin.username);
  }

  /**
   * Spends a refresh token (it works once) for a new pair. Admin tokens are refreshed on the
   * admin path, member tokens on their store's path; a token used on the wrong path is refused.
   */
  async refresh(refreshToken: string, scope: { kind: 'admin' } | { kind: 'member'; storeId: string } = { kind: 'admin' }): Promise<TokenPair> {
    const now = this.now();
    const tokenHash = sha256(refreshToken);
    const owner =
      scope.kind === 'admin' ? { adminId: { not: null } } : { member: { storeId: scope.storeId } };
    const spent = await this.prisma.refreshToken.updateMany({
      where: { tokenHash, usedAt: null, expiresAt: { gt: now }, ...owner },
      data: { usedAt: now },
    });
    if (spent.count !== 1) throw new AccessError(401, 'Invalid, expired or already used refresh token.');
    const stored = await this.prisma.refreshToken.findUniqueOrThrow({
      where: { tokenHash },
      include: { admin: true, member: true },
    });
    if (stored.admin) return this.issueAdminTokens(stored.admin.id, stored.admin.username);
    if (stored.member?.active) return this.issueMemberTokens(stored.member.id, stored.member.storeId);
    throw new AccessError(401, 'Invalid, expired or already used refresh token.');
  }

  /**
   * Member login for members imported with a password; the username is the member's email,
   * phone or loyalty card number. Member tokens open no management path.
   */
  async memberLogin(storeId: string, username: string, password: string): Promise<TokenPair> {
    const throttleKey = `member:${storeId}:${username.trim().toLowerCase()}`;
    await this.countAttempt(throttleKey);
    const login = username.trim();
    const candidates = await this.prisma.member.findMany({
      where: {
        storeId,
        active: true,
        passwordHash: { not: null },
        OR: [{ email: login.toLowerCase() }, { phone: login }, { loyaltyCardNumber: login }],
      },
      take: 2,
    });
    const member = candidates.length === 1 ? candidates[0] : undefined;
    const valid = await verifyPassword(password, member?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (!member || !valid) throw new AccessError(401, 'Invalid credentials.');
    await this.forgetAttempts(throttleKey);
    return this.issueMemberTokens(member.id, storeId);
  }

  private issueMemberTokens(memberId: string, storeId: string): Promise<TokenPair> {
    return this.issueTokens({ memberId }, { sub: memberId, kind: 'member', storeId });
  }

  private issueAdminTokens(adminId: string, username: string): Promise<TokenPair> {
    return this.issueTokens({ adminId }, { sub: adminId, kind: 'admin', username });
  }

  private async issueTokens(owner: { adminId: string } | { memberId: string }, claims: AccessClaims): Promise<TokenPair> {
    const refresh = newSecret();
    await this.prisma.refreshToken.create({
      data: {
        ...owner,
        tokenHash: sha256(refresh),
        expiresAt: new Date(this.now().getTime() + this.config.refreshTtlSeconds * 1000),
      },
    });
    return { token: signAccessToken(claims, this.config.jwtSecret, this.config.jwtTtlSeconds), refresh_token: refresh };
  }

  /**
   * Counts a login attempt for the username before its password is checked, in one atomic
   * statement, so parallel attempts cannot all slip under the limit. Past `loginMaxFailures`
   * attempts since the first failure, the username is refused (429) until that window ends;
   * a successful login clears the count (forgetAttempts). Other usernames are unaffected.
   */
  private async countAttempt(username: string) {
    const now = this.now();
    const windowStart = new Date(now.getTime() - this.config.loginWindowSeconds * 1000);
    const [row] = await this.prisma.$queryRaw<{ failures: number }[]>`
      INSERT INTO "LoginThrottle" ("username", "failures", "firstFailAt") VALUES (${username}, 1, ${now})
      ON CONFLICT ("username") DO UPDATE SET
        "failures" = CASE WHEN "LoginThrottle"."firstFailAt" < ${windowStart} THEN 1 ELSE "LoginThrottle"."failures" + 1 END,
        "firstFailAt" = CASE WHEN "LoginThrottle"."firstFailAt" < ${windowStart} THEN ${now} ELSE "LoginThrottle"."firstFailAt" END
      RETURNING "failures"`;
    if (row.failures > this.config.loginMaxFailures) throw tooManyAttempts();
  }

  private async forgetAttempts(username: string) {
    await this.prisma.loginThrottle.deleteMany({ where: { username } });
  }

  async createAdmin(input: { username: string; password: string; storeCodes?: string[] }) {
    const username = input.username.trim();
    if (!username) throw new ValidationFailed([fieldError('username', 'required', 'This value should not be blank.')]);
    if (input.password.length < 8)
      throw new ValidationFailed([
        fieldError('password', 'out_of_range', 'The password needs at least 8 characters.', { min: 8 }),
      ]);
    if (await this.prisma.admin.findUnique({ where: { username } }))
      throw new ValidationFailed([fieldError('username', 'not_unique', 'This username is already used.')]);
    const stores = input.storeCodes?.length
      ? await this.prisma.store.findMany({ where: { code: { in: input.storeCodes } } })
      : [];
    const missing = (input.storeCodes ?? []).filter((code) => !stores.some((store) => store.code === code));
    if (missing.length)
      throw new ValidationFailed(
        missing.map((code) => fieldError('storeCodes', 'not_found', `Store ${code} does not exist.`, { code })),
      );
    return this.prisma.admin.create({
      data: {
        username,
        passwordHash: await hashPassword(input.password),
        allStores: !input.storeCodes?.length,
        stores: { create: stores.map((store) => ({ storeId: store.id })) },
      },
    });
  }

  /**
   * Makes sure an admin exists: from ADMIN_USERNAME/ADMIN_PASSWORD, or (outside production) one
   * with a generated password. Returns the generated password so the caller can print it once.
   */
  async ensureBootstrapAdmin(): Promise<{ username: string; generatedPassword?: string } | undefined> {
    const { adminUsername, adminPassword, production } = this.config;
    if (adminUsername && adminPassword) {
      const existing = await this.prisma.admin.findUnique({ where: { username: adminUsername } });
      if (!existing) await this.createAdmin({ username: adminUsername, password: adminPassword });
      else if (!(await verifyPassword(adminPassword, existing.passwordHash)))
        await this.prisma.admin.update({
          where: { id: existing.id },
          data: { passwordHash: await hashPassword(adminPassword) },
        });
      return { username: adminUsername };
    }
    if ((await this.prisma.admin.count()) > 0 || production) return undefined;
    const generatedPassword = newSecret().slice(0, 20);
    await this.createAdmin({ username: 'admin', password: generatedPassword });
    return { username: 'admin', generatedPassword };
  }

  /** Creates an API key for an admin; the key itself is returned once and never stored. */
  async createApiKey(adminId: string, name: string) {
    const key = newSecret(API_KEY_PREFIX);
    const apiKey = await this.prisma.apiKey.create({
      data: { adminId, name: name.trim() || 'api key', keyHash: sha256(key), prefix: key.slice(0, 10) },
    });
    return { key, apiKey };
  }

  async createApiKeyForUsername(username: string, name: string) {
    const admin = await this.prisma.admin.findUnique({ where: { username } });
    if (!admin) throw new ValidationFailed([fieldError('username', 'not_found', `No admin ${username}.`)]);
    return this.createApiKey(admin.id, name);
  }

  /** Revokes one of the admin's keys; returns false when the admin has no such key. */
  async revokeApiKey(adminId: string | undefined, apiKeyId: string): Promise<boolean> {
    if (!isUuid(apiKeyId)) return false;
    const result = await this.prisma.apiKey.updateMany({
      where: { id: apiKeyId, revokedAt: null, ...(adminId ? { adminId } : {}) },
      data: { revokedAt: this.now() },
    });
    return result.count === 1;
  }

  listApiKeys(adminId: string) {
    return this.prisma.apiKey.findMany({ where: { adminId }, orderBy: { createdAt: 'asc' } });
  }
}
