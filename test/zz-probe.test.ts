import { it, expect } from 'vitest';
import { findOperation, responseValidator, documentedStatuses } from './support/openapi.ts';
it('loads', () => {
  console.log(findOperation('GET /api/DEFAULT/segment/abc').operationId, findOperation('GET /api/DEFAULT/segment').operationId, findOperation('POST /api/x/segment/y/activate').operationId, documentedStatuses('segmentGetList'));
  const v = responseValidator('segmentGetList', 200);
  v({ status: 200, body: { items: [{ segmentId: 'bad', averageClv: 1 }], total: {} }, headers: new Headers({'content-type':'application/json'}), text: '' });
});
