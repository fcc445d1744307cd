import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';

const memberId = (n: number) => `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describeEachDatabase('POST /api/{storeCode}/import', (kind) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
  });
  afterAll(() => t?.close());

  it('streams an NDJSON body larger than the 1 MiB request limit and reports bad lines by number', async () => {
    const padding = 'x'.repeat(200);
    const lines = Array.from({ length: 6000 }, (_, i) =>
      JSON.stringify({ kind: 'member', customerId: memberId(i), firstName: `M${i}`, lastName: padding }),
    );
    lines.splice(10, 0, '{not json');
    lines.splice(20, 0, JSON.stringify({ kind: 'spaceship', id: memberId(1) }));
    const body = `${lines.join('\n')}\n`;
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const response = await t.request('POST', '/api/DEFAULT/import', { token, body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ lines: 6002, imported: 6000, failed: 2, byKind: { member: 6000 } });
    expect(response.body.errors).toEqual([
      { line: 11, reason: 'not valid JSON' },
      { line: 21, reason: expect.stringContaining('unknown kind') },
    ]);
    expect(await t.app.database.prisma.member.count()).toBe(6000);
  });

  it('needs credentials and a known store', async () => {
    const line = JSON.stringify({ kind: 'channel', id: memberId(1), name: 'Web' });
    expect((await t.request('POST', '/api/DEFAULT/import', { body: line })).status).toBe(401);
    expect((await t.request('POST', '/api/NOPE/import', { token, body: line })).status).toBe(404);
  });
});
