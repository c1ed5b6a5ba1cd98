import { createTestEngine } from '../support/engine';
import { describeApiStory, inProcessTarget } from '../support/story';

// The story itself is in tests/support/story.ts: the Worker runs the same one over HTTP (tests/worker/).
describeApiStory('a referendum initiative from draft to certified item', async () => inProcessTarget(await createTestEngine()));
