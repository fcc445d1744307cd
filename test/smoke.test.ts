import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';

describeEachDatabase('smoke', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start(kind);
  });
  afterAll(() => t?.close());

  it('creates and reads back a segment over REST', async () => {
    const token = await t.login();
    const created = await t.request('POST', '/api/DEFAULT/segment', {
      token,
      body: { segment: { name: 'Smoke', parts: [{ criteria: [{ type: 'transaction_count', min: 1, max: 3 }] }] } },
    });
    expect(created.status).toBe(200);
    const read = await t.request('GET', `/api/DEFAULT/segment/${created.body.segmentId}`, { token });
    expect(read.status).toBe(200);
    expect(read.body.parts[0].criteria[0]).toMatchObject({ type: 'transaction_count', min: 1, max: 3 });
  });
});
