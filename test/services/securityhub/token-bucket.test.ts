import { loadConfig } from '../../../src/config';
import { BATCH_IMPORT_RATE, TokenBucket } from '../../../src/services/securityhub/token-bucket';

describe('the token bucket pacing BatchImportFindings', () => {
  it('lets a burst of 30 through at once, then 10 a second', async () => {
    const bucket = new TokenBucket(BATCH_IMPORT_RATE.ratePerSecond, BATCH_IMPORT_RATE.burst);
    const start = Date.now();
    const at: number[] = [];
    await Promise.all(Array.from({ length: 35 }, () => bucket.take().then(() => at.push(Date.now() - start))));
    at.sort((a, b) => a - b);
    expect(at[29]).toBeLessThan(50); // the burst
    // The 5 after it wait for tokens: the 35th about half a second in (5 tokens at 10 a second).
    expect(at[34]).toBeGreaterThanOrEqual(450);
    expect(at[34]).toBeLessThan(1000);
  });
});

describe('KEYWARDEN_SECURITYHUB_REGION', () => {
  it('is optional (no push), validated as a region name, and the catch-up is a cron or off', () => {
    expect(loadConfig({}).securityHubRegion).toBeUndefined();
    expect(loadConfig({}).securityHubCatchUp).toBe('*/15 * * * *');
    expect(loadConfig({ KEYWARDEN_SECURITYHUB_REGION: 'eu-west-1', KEYWARDEN_SECURITYHUB_CATCH_UP: 'off' })).toMatchObject({ securityHubRegion: 'eu-west-1', securityHubCatchUp: 'off' });
    expect(() => loadConfig({ KEYWARDEN_SECURITYHUB_REGION: 'Europe' })).toThrow('invalid KEYWARDEN_SECURITYHUB_REGION: must be an AWS region name');
    expect(() => loadConfig({ KEYWARDEN_SECURITYHUB_CATCH_UP: 'hourly' })).toThrow('invalid KEYWARDEN_SECURITYHUB_CATCH_UP');
  });
});
