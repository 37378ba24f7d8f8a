import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventLoopLoad } from '../src/admission/listener-load.js';

describe('listener load', () => {
  it("reads the thread's event-loop utilisation since the previous call", async () => {
    const load = eventLoopLoad();
    // A callback that runs for 60 ms: the loop was busy for (nearly) the whole interval.
    const until = Date.now() + 60;
    while (Date.now() < until);
    const busy = load();
    // 60 ms waiting in the poll phase: (nearly) idle.
    await new Promise((r) => setTimeout(r, 60));
    const idle = load();
    assert.ok(busy > 0.8, `busy ${busy}`);
    assert.ok(idle < 0.5, `idle ${idle}`);
  });
});
