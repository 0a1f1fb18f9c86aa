import { Readable } from 'node:stream';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { resolveConfig } from '../../../common/config';
import { createAwsClients, destroyAwsClients } from '../../../platform/aws-clients';
import { PerCallRetryStrategy } from '../../../platform/aws-retry';

// Where retries live: the SDK retries each call (aws.maxAttempts) without the standard strategy's
// process-wide budget, which a sustained fault rate drains until nothing is retried at all.

/** A request handler in place of the network: 40 % of requests fail (503, or the connection reset), from a seeded sequence. */
function faultyWire(share: number, seed = 7) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const handler = {
    requests: 0,
    handle() {
      handler.requests += 1;
      const roll = next();
      if (roll < share / 2) return Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      const statusCode = roll < share ? 503 : 200;
      return Promise.resolve({ response: { statusCode, headers: {}, body: Readable.from([]) } });
    },
  };
  return handler;
}

/** Failed calls among the first and the second 200 of 400 HeadBucket calls. */
async function failuresOver400Calls(s3: S3Client): Promise<[number, number]> {
  const failed = [0, 0] as [number, number];
  for (let call = 0; call < 400; call += 1) {
    await s3.send(new HeadBucketCommand({ Bucket: 'llmtwin-test' })).catch(() => (failed[call < 200 ? 0 : 1] += 1));
  }
  return failed;
}

beforeEach(() => jest.spyOn(Math, 'random').mockReturnValue(0)); // no backoff waits: the tries are what is counted
afterEach(() => jest.restoreAllMocks());

it("keeps retrying each call at a 40 % fault rate, where the SDK's standard budget runs out", async () => {
  const config = resolveConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_MAX_ATTEMPTS: '3' });
  const aws = createAwsClients(config, {}, {});
  const ours = faultyWire(0.4);
  aws.s3.config.requestHandler = ours as never;
  const [early, late] = await failuresOver400Calls(aws.s3);
  destroyAwsClients(aws);

  const standard = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    forcePathStyle: true,
    maxAttempts: 3,
    retryMode: 'standard',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const theirs = faultyWire(0.4);
  standard.config.requestHandler = theirs as never;
  const [standardEarly, standardLate] = await failuresOver400Calls(standard);
  standard.destroy();

  // Three tries each: a call fails only when all three do (0.4^3 = 6.4 %), in the first 200 calls as in the last.
  expect(early + late).toBeLessThan(0.12 * 400);
  expect(late).toBeLessThan(0.12 * 200);
  expect(ours.requests).toBeGreaterThan(400 * 1.5);
  // The standard strategy's budget is spent within the first calls: then each fault fails its call.
  expect(standardLate).toBeGreaterThan(0.3 * 200);
  expect(standardLate).toBeGreaterThan(2 * late);
  expect(standardEarly + standardLate).toBeGreaterThan(early + late);
});

it('retries throttling and transient errors only, up to the attempts given', async () => {
  const strategy = new PerCallRetryStrategy(3, () => 0.5);
  const first = await strategy.acquireInitialRetryToken();
  const second = await strategy.refreshRetryTokenForRetry(first, { errorType: 'THROTTLING' });
  expect(second.getRetryCount()).toBe(1);
  expect(second.getRetryDelay()).toBe(250);
  const third = await strategy.refreshRetryTokenForRetry(second, { errorType: 'TRANSIENT' });
  expect(third.getRetryDelay()).toBe(100);
  await expect(strategy.refreshRetryTokenForRetry(third, { errorType: 'TRANSIENT' })).rejects.toThrow('No retry token');
  await expect(strategy.refreshRetryTokenForRetry(first, { errorType: 'CLIENT_ERROR' })).rejects.toThrow('No retry token');
});
