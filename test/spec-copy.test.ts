import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const shared = new URL('../../shared/spec/segment-api.openapi.json', import.meta.url);
const copy = new URL('../spec/segment-api.openapi.json', import.meta.url);

// The repository keeps a copy of the published contract so tests run on any clone; when the
// shared original is beside the project (CI, developers), the copy must be identical.
describe.skipIf(!existsSync(shared))('spec/segment-api.openapi.json [needs ../shared/spec to compare]', () => {
  it('is identical to the shared contract', () => {
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });
});
