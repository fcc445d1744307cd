import { criterionSelection, flatToGraphqlInput, graphqlOutputToFlat } from '../criteria/codec.ts';
import { NotFound, ValidationFailed, fieldError } from '../errors.ts';
import type { Store } from '../generated/prisma/client.ts';
import { ASSOCIATION_RESOURCES } from '../services/association-service.ts';
import { SEGMENT_MEMBER_ORDER_FIELDS } from '../services/member-service.ts';
import { SEGMENT_LIST_FIELDS } from '../services/segment-service.ts';
import { validateSegmentInput } from '../services/segment-input.ts';
import { parseListParams, type FilterFieldKind } from './list-params.ts';
import type { RestResponse } from './responses.ts';

/**
 * The documented REST paths (segment-api.openapi.json), each a fixed GraphQL operation run
 * through the same yoga instance: auth, validation, limits and resolvers are shared by
 * construction. A route reads the request into variables and shapes the operation's result.
 */
export interface RestRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (object), for routes with `body: true`. */
  body: Record<string, unknown>;
  /** The store of a management path, already resolved and checked. */
  store?: Store;
}

export interface RestRoute {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** `admin`: management path (401/403 before anything else, then the store must exist). */
  access: 'admin' | 'public';
  body?: boolean;
  document: string;
  variables(request: RestRequest): Record<string, unknown>;
  /** Shapes the success branch of the operation's result (`data.result`). */
  respond(result: Record<string, unknown>): RestResponse;
}

// Typed error branches of the operations' result unions, selected by the documents below.
const NOT_FOUND = `__typename ... on NotFoundError { message }`;
const INVALID_OR_NOT_FOUND = `${NOT_FOUND} ... on ValidationError { message errors { path code message parameters plural } }`;

const SEGMENT_FIELDS = `segmentId name description active createdAt customersCount
  averageTransactionAmount averageTransactions averageClv calculatedAt currency
  parts { segmentPartId criteria { ${criterionSelection()} } }`;

const LIST_FILTERS: Record<string, FilterFieldKind> = {
  name: 'string',
  active: 'boolean',
  description: 'string',
  customersCount: 'integer',
  averageTransactionAmount: 'number',
  averageTransactions: 'number',
  averageClv: 'number',
  createdAt: 'date-time',
};

const MEMBER_FILTERS: Record<string, FilterFieldKind> = {
  customerId: 'string',
  firstName: 'string',
  lastName: 'string',
  email: 'string',
  phone: 'string',
};

const upperSnake = (field: string) => field.replace(/([A-Z])/g, '_$1').toUpperCase();

/** Query string -> the GraphQL list arguments shared by every list route. */
function listVariables(query: URLSearchParams, filters: Record<string, FilterFieldKind>, orderable: readonly string[]) {
  const parsed = parseListParams(query, filters, orderable);
  return {
    page: parsed.page,
    itemsOnPage: parsed.itemsOnPage,
    // A boolean filter is the value itself in GraphQL; the others are {eq, like, gte, ...}.
    filter: Object.fromEntries(
      Object.entries(parsed.filter).map(([field, ops]) => [field, filters[field] === 'boolean' ? ops.eq : ops]),
    ),
    orderBy: parsed.orderBy.map(({ field, direction }) => ({ field: upperSnake(field), direction: direction.toUpperCase() })),
  };
}

/** SegmentCustomer: absent rather than null; birthDate as an instant at 00:00 UTC (DOMAIN.md 7). */
function segmentCustomer(row: { calculatedAt: string; member: Record<string, unknown> }) {
  const { member } = row;
  const present = (fields: string[]) =>
    Object.fromEntries(fields.filter((field) => member[field] != null).map((field) => [field, member[field]]));
  return {
    customerId: member.customerId,
    createdAt: member.createdAt,
    ...present(['firstName', 'lastName', 'phone', 'email']),
    ...(member.birthDate ? { birthDate: `${member.birthDate}T00:00:00Z` } : {}),
    ...(member.gender ? { gender: String(member.gender).toLowerCase() } : {}),
    calculatedAt: row.calculatedAt,
  };
}

/** Reads `{"segment": {...}}`; shape errors are answered here, before GraphQL coercion could. */
function segmentVariables({ body, store }: RestRequest): Record<string, unknown> {
  const errors = Object.keys(body)
    .filter((key) => key !== 'segment')
    .map((key) => fieldError(key, 'unknown_field', 'This field was not expected.'));
  if (body.segment === undefined) errors.push(fieldError('segment', 'required', 'This value should not be blank.'));
  if (errors.length) throw new ValidationFailed(errors);
  // The service's own validator, in the store's zone (local instants are compared after reading
  // them); the mutation validates again, which is cheap and keeps GraphQL clients covered.
  const { errors: invalid } = validateSegmentInput(body.segment, store?.timezone ?? 'UTC');
  if (invalid.length) throw new ValidationFailed(invalid);
  const segment = body.segment as Record<string, unknown>;
  const parts = segment.parts as { segmentPartId?: string; criteria: Record<string, unknown>[] }[] | null | undefined;
  return {
    ...segment,
    ...(parts
      ? {
          parts: parts.map((part) => ({
            segmentPartId: part.segmentPartId ?? null,
            criteria: part.criteria.map(flatToGraphqlInput),
          })),
        }
      : {}),
  };
}

type SegmentOutput = Record<string, unknown> & {
  parts: { segmentPartId: string; criteria: Record<string, unknown>[] }[];
};

/** Common to list items and details: absent, not null, when there is no value. */
function segmentBody(segment: SegmentOutput, averages: (value: number) => number | string) {
  const body: Record<string, unknown> = {
    segmentId: segment.segmentId,
    name: segment.name,
    ...(segment.description != null ? { description: segment.description } : {}),
    active: segment.active,
    createdAt: segment.createdAt,
    customersCount: segment.customersCount,
    averageTransactionAmount: averages(segment.averageTransactionAmount as number),
    averageTransactions: averages(segment.averageTransactions as number),
    averageClv: averages(segment.averageClv as number),
    currency: segment.currency,
    ...(segment.calculatedAt != null ? { calculatedAt: segment.calculatedAt } : {}),
    parts: segment.parts.map((part) => ({
      segmentPartId: part.segmentPartId,
      criteria: part.criteria.map(({ criterionId, ...criterion }) => ({
        criterionId,
        ...graphqlOutputToFlat(criterion),
      })),
    })),
  };
  return body;
}

const storeAndSegment = ({ params }: RestRequest) => ({ storeCode: params.storeCode, segmentId: params.segment });

export const routes: RestRoute[] = [
  {
    operationId: 'adminLoginCheck',
    method: 'POST',
    path: '/api/admin/login_check',
    access: 'public',
    body: true,
    document: `mutation AdminLogin($username: String!, $password: String!) {
      result: adminLogin(username: $username, password: $password) { token refresh_token } }`,
    variables: ({ body }) => requireStrings(body, ['username', 'password']),
    respond: (result) => ({ status: 200, body: result }),
  },
  {
    operationId: 'tokenRefresh',
    method: 'POST',
    path: '/api/token/refresh',
    access: 'public',
    body: true,
    document: `mutation RefreshToken($refreshToken: String!) {
      result: refreshToken(refreshToken: $refreshToken) { token refresh_token } }`,
    variables: ({ body }) => ({ refreshToken: requireStrings(body, ['refresh_token']).refresh_token }),
    respond: (result) => ({ status: 200, body: result }),
  },
  {
    operationId: 'segmentGetList',
    method: 'GET',
    path: '/api/:storeCode/segment',
    access: 'admin',
    document: `query SegmentList($storeCode: String!, $filter: SegmentFilter, $orderBy: [SegmentOrder!], $page: Int, $itemsOnPage: Int) {
      result: segments(storeCode: $storeCode, filter: $filter, orderBy: $orderBy, page: $page, itemsOnPage: $itemsOnPage) {
        ${INVALID_OR_NOT_FOUND}
        ... on SegmentPage { total { all filtered estimated } items { ${SEGMENT_FIELDS} } } } }`,
    variables: ({ params, query }) => ({
      storeCode: params.storeCode,
      ...listVariables(query, LIST_FILTERS, SEGMENT_LIST_FIELDS),
    }),
    respond: (result) => ({
      status: 200,
      body: {
        items: (result.items as SegmentOutput[]).map((segment) => segmentBody(segment, (value) => value.toFixed(2))),
        total: result.total,
      },
    }),
  },
  {
    operationId: 'segmentPost',
    method: 'POST',
    path: '/api/:storeCode/segment',
    access: 'admin',
    body: true,
    document: `mutation CreateSegment($storeCode: String!, $segment: CreateSegmentInput!) {
      result: createSegment(storeCode: $storeCode, segment: $segment) { ${INVALID_OR_NOT_FOUND} ... on Segment { segmentId } } }`,
    variables: (request) => ({ storeCode: request.params.storeCode, segment: segmentVariables(request) }),
    respond: (result) => ({ status: 200, body: { segmentId: result.segmentId } }),
  },
  {
    operationId: 'segmentGet',
    method: 'GET',
    path: '/api/:storeCode/segment/:segment',
    access: 'admin',
    document: `query Segment($storeCode: String!, $segmentId: ID!) {
      result: segment(storeCode: $storeCode, segmentId: $segmentId) { ${NOT_FOUND} ... on Segment { ${SEGMENT_FIELDS} } } }`,
    variables: storeAndSegment,
    respond: (result) => ({ status: 200, body: segmentBody(result as SegmentOutput, (value) => value) }),
  },
  {
    operationId: 'segmentPut',
    method: 'PUT',
    path: '/api/:storeCode/segment/:segment',
    access: 'admin',
    body: true,
    document: `mutation UpdateSegment($storeCode: String!, $segmentId: ID!, $segment: UpdateSegmentInput!) {
      result: updateSegment(storeCode: $storeCode, segmentId: $segmentId, segment: $segment) {
        ${INVALID_OR_NOT_FOUND} ... on Segment { segmentId } } }`,
    variables: (request) => ({ ...storeAndSegment(request), segment: segmentVariables(request) }),
    respond: (result) => ({ status: 200, body: { segmentId: result.segmentId } }),
  },
  {
    operationId: 'segmentDelete',
    method: 'DELETE',
    path: '/api/:storeCode/segment/:segment',
    access: 'admin',
    document: `mutation DeleteSegment($storeCode: String!, $segmentId: ID!) {
      result: deleteSegment(storeCode: $storeCode, segmentId: $segmentId) { ${INVALID_OR_NOT_FOUND} ... on DeletedSegment { segmentId } } }`,
    variables: storeAndSegment,
    respond: () => ({ status: 204 }),
  },
  {
    operationId: 'segmentGetMembers',
    method: 'GET',
    path: '/api/:storeCode/segment/:segment/members',
    access: 'admin',
    document: `query SegmentMembers($storeCode: String!, $segmentId: ID!, $filter: SegmentMemberFilter,
        $orderBy: [SegmentMemberOrder!], $page: Int, $itemsOnPage: Int) {
      result: segmentMembers(storeCode: $storeCode, segmentId: $segmentId, filter: $filter, orderBy: $orderBy,
          page: $page, itemsOnPage: $itemsOnPage) {
        ${INVALID_OR_NOT_FOUND}
        ... on SegmentMemberPage {
          total { all filtered estimated }
          items { calculatedAt member { customerId createdAt firstName lastName phone email birthDate gender } } } } }`,
    variables: (request) => ({
      ...storeAndSegment(request),
      ...listVariables(request.query, MEMBER_FILTERS, SEGMENT_MEMBER_ORDER_FIELDS),
    }),
    respond: (result) => ({
      status: 200,
      body: { items: (result.items as never[]).map(segmentCustomer), total: result.total },
    }),
  },
  {
    operationId: '_getSegmentAssociation',
    method: 'GET',
    path: '/api/:storeCode/segment/:segment/association/:resourceName',
    access: 'admin',
    document: `query SegmentAssociations($storeCode: String!, $segmentId: ID!, $resource: AssociationResource!, $page: Int, $itemsOnPage: Int) {
      result: segmentAssociations(storeCode: $storeCode, segmentId: $segmentId, resource: $resource, page: $page, itemsOnPage: $itemsOnPage) {
        ${INVALID_OR_NOT_FOUND}
        ... on AssociationPage { total { all estimated } items { id name active additionalData } } } }`,
    variables: (request) => {
      const resource = request.params.resourceName;
      if (!(ASSOCIATION_RESOURCES as readonly string[]).includes(resource))
        throw new NotFound(`Unknown resource ${resource}: use ${ASSOCIATION_RESOURCES.join(', ')}.`);
      const { page, itemsOnPage } = listVariables(request.query, {}, []);
      return { ...storeAndSegment(request), resource: resource.toUpperCase(), page, itemsOnPage };
    },
    respond: (result) => ({ status: 200, body: { items: result.items, total: result.total } }),
  },
  {
    operationId: 'memberLoginCheck',
    method: 'POST',
    path: '/api/:storeCode/member/login_check',
    access: 'public',
    body: true,
    document: `mutation MemberLogin($storeCode: String!, $username: String!, $password: String!) {
      result: memberLogin(storeCode: $storeCode, username: $username, password: $password) {
        ${NOT_FOUND} ... on TokenPair { token refresh_token } } }`,
    variables: ({ params, body }) => ({ storeCode: params.storeCode, ...requireStrings(body, ['username', 'password']) }),
    respond: ({ token, refresh_token }) => ({ status: 200, body: { token, refresh_token } }),
  },
  {
    operationId: 'tokenRefreshMember',
    method: 'POST',
    path: '/api/:storeCode/token/refresh',
    access: 'public',
    body: true,
    document: `mutation MemberRefresh($storeCode: String!, $refreshToken: String!) {
      result: memberRefreshToken(storeCode: $storeCode, refreshToken: $refreshToken) {
        ${NOT_FOUND} ... on TokenPair { token refresh_token } } }`,
    variables: ({ params, body }) => ({
      storeCode: params.storeCode,
      refreshToken: requireStrings(body, ['refresh_token']).refresh_token,
    }),
    respond: ({ token, refresh_token }) => ({ status: 200, body: { token, refresh_token } }),
  },
  {
    operationId: 'segmentPostActivate',
    method: 'POST',
    path: '/api/:storeCode/segment/:segment/activate',
    access: 'admin',
    document: `mutation ActivateSegment($storeCode: String!, $segmentId: ID!) {
      result: activateSegment(storeCode: $storeCode, segmentId: $segmentId) { ${NOT_FOUND} ... on Segment { segmentId } } }`,
    variables: storeAndSegment,
    respond: () => ({ status: 204 }),
  },
  {
    operationId: 'segmentPostDeactivate',
    method: 'POST',
    path: '/api/:storeCode/segment/:segment/deactivate',
    access: 'admin',
    document: `mutation DeactivateSegment($storeCode: String!, $segmentId: ID!) {
      result: deactivateSegment(storeCode: $storeCode, segmentId: $segmentId) { ${NOT_FOUND} ... on Segment { segmentId } } }`,
    variables: storeAndSegment,
    respond: () => ({ status: 204 }),
  },
];

function requireStrings(body: Record<string, unknown>, names: string[]): Record<string, string> {
  const errors = names.flatMap((name) => {
    const value = body[name];
    if (value == null || value === '') return [fieldError(name, 'required', 'This value should not be blank.')];
    if (typeof value !== 'string') return [fieldError(name, 'invalid_type', 'This value should be of type string.', { type: 'string' })];
    return [];
  });
  if (errors.length) throw new ValidationFailed(errors);
  return Object.fromEntries(names.map((name) => [name, body[name] as string]));
}
