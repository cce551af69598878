import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The palette as a user meets it: commands are told apart by their words and by their icons.
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string; title: string; icon?: string }[] };
};
const commands = manifest.contributes.commands;

describe('the command palette', () => {
  it('has one command whose title holds "Replay", so typing "Replay Capture" finds Replay Capture… first', () => {
    const replay = commands.filter((c) => /\breplay\b/i.test(c.title)).map((c) => c.command);
    assert.deepEqual(replay, ['multifd.replayCapture']);
  });

  it('gives no two commands the same icon', () => {
    const byIcon = new Map<string, string[]>();
    for (const c of commands) if (c.icon) byIcon.set(c.icon, [...(byIcon.get(c.icon) ?? []), c.command]);
    const shared = [...byIcon].filter(([, list]) => list.length > 1);
    assert.deepEqual(shared, []);
  });

  it('gives no two commands the same title', () => {
    const titles = commands.map((c) => c.title);
    assert.equal(new Set(titles).size, titles.length);
  });
});
