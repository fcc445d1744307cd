import { AccessError, NotFound, ValidationFailed, fieldError, type FieldError } from '../errors.ts';
import type { PrismaClient, Store } from '../generated/prisma/client.ts';
import type { Viewer } from './auth-service.ts';

export interface StoreInput {
  code: string;
  name: string;
  currency?: string;
  timezone?: string;
}

const CODE = /^[A-Za-z0-9_-]{1,64}$/;

function isTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class StoreService {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: StoreInput): Promise<Store> {
    const errors: FieldError[] = [];
    const code = input.code.trim();
    const currency = (input.currency ?? 'EUR').trim().toUpperCase();
    const timezone = (input.timezone ?? 'UTC').trim();
    if (!CODE.test(code))
      errors.push(fieldError('code', 'invalid_format', 'A store code is 1-64 letters, digits, "-" or "_".'));
    if (!input.name.trim()) errors.push(fieldError('name', 'required', 'This value should not be blank.'));
    if (!/^[A-Z]{3}$/.test(currency))
      errors.push(fieldError('currency', 'invalid_format', 'A currency is an ISO 4217 code such as EUR.'));
    if (!isTimezone(timezone)) errors.push(fieldError('timezone', 'invalid_choice', 'Unknown IANA time zone.'));
    if (!errors.length && (await this.prisma.store.findUnique({ where: { code } })))
      errors.push(fieldError('code', 'not_unique', 'This store code is already used.', { code }));
    if (errors.length) throw new ValidationFailed(errors);
    return this.prisma.store.create({ data: { code, name: input.name.trim(), currency, timezone } });
  }

  /** Creates the store unless it exists; used to bootstrap the embedded default `DEFAULT`. */
  async ensure(input: StoreInput): Promise<Store> {
    return (await this.prisma.store.findUnique({ where: { code: input.code } })) ?? this.create(input);
  }

  list(viewer: Viewer) {
    if (viewer.kind !== 'admin') throw new AccessError(403, 'Members cannot manage stores.');
    return this.prisma.store.findMany({
      where: viewer.allStores ? {} : { id: { in: [...viewer.storeIds] } },
      orderBy: { code: 'asc' },
    });
  }

  /** A store by code, for paths open to members (login); 404 when unknown. */
  async getByCode(storeCode: string): Promise<Store> {
    const store = await this.prisma.store.findUnique({ where: { code: storeCode } });
    if (!store) throw new NotFound(`Store ${storeCode} not found.`);
    return store;
  }

  /**
   * The store a management operation acts on: 401 without credentials, 404 for an unknown
   * code, 403 for a member token or an admin limited to other stores.
   */
  async requireManaged(viewer: Viewer | null, storeCode: string): Promise<Store> {
    const admin = requireAdmin(viewer);
    const store = await this.prisma.store.findUnique({ where: { code: storeCode } });
    if (!store) throw new NotFound(`Store ${storeCode} not found.`);
    if (!admin.allStores && !admin.storeIds.has(store.id))
      throw new AccessError(403, 'This account may not manage this store.');
    return store;
  }
}

export function requireAdmin(viewer: Viewer | null): Extract<Viewer, { kind: 'admin' }> {
  if (!viewer) throw new AccessError(401, 'Authentication required: send a Bearer token or X-AUTH-TOKEN.');
  if (viewer.kind !== 'admin') throw new AccessError(403, 'A member token cannot access management operations.');
  return viewer;
}
