import { decodeCursor, encodeCursor } from '../../src/services/page';

/** A cursor says what issued it (services/page.ts): read under another list or order, it is refused, not reinterpreted. */
describe('cursor tags', () => {
  const refused = (run: () => unknown) => {
    try {
      run();
    } catch (err: any) {
      return { message: err.message, field: err.field };
    }
    throw new Error('accepted');
  };

  it('round-trips a key under the tag it was issued with, and stays short', () => {
    const cursor = encodeCursor({ list: 's', direction: 'DESC' }, ['2026-11-28T10:00:00.000Z', '00000000-0000-4000-8000-000000000000']);
    expect(decodeCursor(cursor, { list: 's', direction: 'DESC' }, ['instant', 'uuid'])).toEqual(['2026-11-28T10:00:00.000Z', '00000000-0000-4000-8000-000000000000']);
    // The tag adds "s-", (5 bytes of JSON) to what the key alone was.
    expect(Buffer.from(cursor, 'base64url').toString()).toBe('["s-","2026-11-28T10:00:00.000Z","00000000-0000-4000-8000-000000000000"]');
  });

  it('refuses a cursor of another list, naming the argument and both lists', () => {
    const scans = encodeCursor({ list: 's', direction: 'DESC' }, ['2026-11-28T10:00:00.000Z', '00000000-0000-4000-8000-000000000000']);
    expect(refused(() => decodeCursor(scans, { list: 'f', field: 'IDENTITY', direction: 'ASC' }, ['instant?', 'text']))).toEqual({
      message: 'after was issued for scans, not findings: start again without after', field: 'after',
    });
    const opened = encodeCursor({ list: 'so' }, ['12']);
    expect(refused(() => decodeCursor(opened, { list: 'sr' }, ['int'], 'before'))).toEqual({
      message: 'before was issued for Scan.openedFindings, not Scan.resolvedFindings: start again without before', field: 'before',
    });
  });

  it('refuses a cursor of the same list under another order field or direction', () => {
    const byFirstSeen = encodeCursor({ list: 'f', field: 'FIRST_SEEN_AT', direction: 'DESC' }, ['2026-11-28T10:00:00.000Z', 'x']);
    expect(refused(() => decodeCursor(byFirstSeen, { list: 'f', field: 'LAST_SEEN_AT', direction: 'DESC' }, ['instant?', 'text']))).toEqual({
      message: 'after was issued for orderBy { field: FIRST_SEEN_AT, direction: DESC }: ask that order, or start again without after', field: 'after',
    });
    const asc = encodeCursor({ list: 'a', direction: 'ASC' }, ['123456789012']);
    expect(refused(() => decodeCursor(asc, { list: 'a', direction: 'DESC' }, ['text']))).toEqual({
      message: 'after was issued for orderBy { direction: ASC }: ask that order, or start again without after', field: 'after',
    });
  });

  it('refuses untagged, unknown-tag and change-log cursors as not this API\'s', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [b64(['123456789012']), b64(['constructor', 'x']), b64(['c', '1', '2']), b64({ s: 1 }), 'bm90LWEtY3Vyc29y', b64(['zz', '1'])]) {
      expect(refused(() => decodeCursor(cursor, { list: 'so' }, ['int']))).toEqual({ message: 'after is not a cursor returned by this API', field: 'after' });
    }
    // Right tag, wrong shape: a seq that is no bigint.
    expect(refused(() => decodeCursor(encodeCursor({ list: 'so' }, ['9'.repeat(19)]), { list: 'so' }, ['int']))).toEqual({ message: 'after is not a cursor returned by this API', field: 'after' });
  });
});
