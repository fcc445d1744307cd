import { fieldError, type FieldError } from '../errors.ts';

/** A list request as DOMAIN.md section 7 defines it, in field terms both GraphQL and REST share. */
export interface ListQuery<Field extends string = string> {
  page?: number;
  itemsOnPage?: number;
  orderBy?: { field: Field; direction: 'asc' | 'desc' }[];
  filters?: ListFilter<Field>[];
}

export type FilterOperator = 'eq' | 'like' | 'gt' | 'gte' | 'lt' | 'lte';

export interface ListFilter<Field extends string = string> {
  field: Field;
  operator: FilterOperator;
  value: string | number | boolean | Date;
}

export const DEFAULT_ITEMS_ON_PAGE = 10;
export const MAX_ITEMS_ON_PAGE = 50;

/** Checks paging; returns skip/take. Paths use the REST parameter names, which the GraphQL args mirror. */
export function checkPaging(query: ListQuery, errors: FieldError[]): { skip: number; take: number } {
  const page = query.page ?? 1;
  const take = query.itemsOnPage ?? DEFAULT_ITEMS_ON_PAGE;
  if (!Number.isInteger(page) || page < 1)
    errors.push(fieldError('_page', 'out_of_range', 'The page number starts at 1.', { min: 1 }));
  if (!Number.isInteger(take) || take < 1 || take > MAX_ITEMS_ON_PAGE)
    errors.push(
      fieldError('_itemsOnPage', 'out_of_range', `Items on a page are between 1 and ${MAX_ITEMS_ON_PAGE}.`, {
        min: 1,
        max: MAX_ITEMS_ON_PAGE,
      }),
    );
  return { skip: (page - 1) * take, take };
}

const PRISMA_OPERATOR = { gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte' } as const;

/** Turns filters into a Prisma `where` (AND of all), for fields that are plain columns. */
export function filtersToWhere(filters: ListFilter[] = []): Record<string, unknown>[] {
  return filters.map(({ field, operator, value }) => {
    if (operator === 'eq') return { [field]: { equals: value } };
    // A substring, not a pattern: LIKE's wildcards in the text are matched literally.
    if (operator === 'like') return { [field]: { contains: String(value).replace(/[\\%_]/g, '\\$&'), mode: 'insensitive' } };
    return { [field]: { [PRISMA_OPERATOR[operator]]: value } };
  });
}
