import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectContext, Point, Sensitivity } from '../src/core/model.js';
import { xssDetector } from '../src/detect/detect-xss.js';
import { jsfuckAtom } from '../src/detect/xss-jsfuck-atom.js';

function inspect(value: string, sensitivity: Sensitivity = 'default') {
  const ctx: DetectContext = {
    sensitivity,
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'POST', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const point: Point = { location: 'body.form.a', value, chain: [], kind: 'value' };
  return xssDetector.inspectPoint!(point, ctx);
}

describe('short JSFuck values (ST-XSS-005)', () => {
  it('flags a whole value written in JSFuck atoms (CRS 941360)', () => {
    const hit = inspect('+!![]').find((h) => h.ruleId === 'ST-XSS-005');
    assert.equal(hit?.fragment, '+!![]');
    // `+` decoded to a space by a form decoder.
    assert.ok(inspect(' !![]').some((h) => h.ruleId === 'ST-XSS-005'));
    for (const v of ['![]+[]', '!![]', '+[![]]', '(![]+[])[+[]]']) assert.equal(jsfuckAtom(v).length, 1, v);
  });

  it('leaves brackets, bangs and checkboxes in text alone', () => {
    for (const v of ['[ ]', '[]', '!!!!', '(!)', '[+]', '- [ ] todo', '[x] done!', '+[]', 'wow!![]', '!!! [] !!!x']) {
      assert.deepEqual(jsfuckAtom(v), [], v);
    }
    assert.deepEqual(inspect('great!! [link](https://example.com)'), []);
  });
});
