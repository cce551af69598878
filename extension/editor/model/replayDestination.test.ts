import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { besideCapture, replayDestinations } from './replayDestination';

describe('replay destinations', () => {
  it('defaults to <capture>.replay beside the capture, never the capture folder itself', () => {
    assert.equal(besideCapture('/work/caps/run1.mfd'), '/work/caps/run1.mfd.replay');
    const [first, second] = replayDestinations('/work/caps/run1.mfd', { compare: false });
    assert.deepEqual(
      [first.kind, first.kind === 'folder' && first.dir, second.kind],
      ['folder', '/work/caps/run1.mfd.replay', 'choose'],
    );
  });

  it('offers the configured folder first when the setting names one', () => {
    const [first] = replayDestinations('/work/caps/run1.mfd', { configured: '/scratch/images', compare: false });
    assert.equal(first.kind === 'folder' && first.dir, '/scratch/images');
    assert.match(first.label, /multifdInspector\.replay\.defaultFolder/);
  });

  it('lets Compare run without keeping the images; Replay always keeps them', () => {
    assert.deepEqual(
      replayDestinations('/c.mfd', { compare: true }).map((d) => d.kind),
      ['folder', 'temporary', 'choose'],
    );
    assert.ok(!replayDestinations('/c.mfd', { compare: false }).some((d) => d.kind === 'temporary'));
  });
});
