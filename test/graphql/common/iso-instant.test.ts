import fc from 'fast-check';
import { isoInstant } from '../../../src/graphql/common/iso-instant';

describe('isoInstant', () => {
  it('writes exactly what Date.prototype.toISOString writes, for any instant a Date can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (t) => {
        const date = new Date(t);
        expect(isoInstant(date)).toBe(date.toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the edges: the epoch, day and leap-day boundaries, the last four-digit year', () => {
    const edges = [0, -1, 1, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 1, 29), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1)];
    for (const t of edges) expect(isoInstant(new Date(t))).toBe(new Date(t).toISOString());
  });

  it('refuses an invalid Date as the built-in does', () => {
    expect(() => isoInstant(new Date(Number.NaN))).toThrow(RangeError);
  });
});
