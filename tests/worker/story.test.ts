import { expect } from 'vitest';
import { describeApiStory } from '../support/story';
import { startWorkerEngine, workerTokens } from '../support/worker';

// The API story of tests/api/story.test.ts, over HTTP against the Worker in workerd (wrangler dev) on PostgreSQL.
describeApiStory('on Workers: a referendum initiative from draft to certified item', async () => {
  const worker = await startWorkerEngine();
  const startedAt = new Date();
  return {
    request: worker.request,
    ...workerTokens(worker.provider),
    tick: () => worker.tick(),
    db: worker.db.db,
    startedAt,
    // The Worker runs on the real clock: nothing in the story needs it moved.
    advance: () => {},
    expectNow: (instant) => {
      const at = Date.parse(instant);
      expect(at).toBeGreaterThanOrEqual(startedAt.getTime() - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    },
    close: () => worker.stop(),
  };
});
