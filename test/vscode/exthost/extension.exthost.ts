/// <reference types="mocha" />
// Runs inside the extension host (see test/vscode/runner): `vscode` is the real API of the running VS Code.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'qemu-multifd-inspector.qemu-multifd-inspector';

describe('extension', () => {
  it('is installed as a development extension', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(
      ext,
      `extension ${EXTENSION_ID} not found; loaded: ${vscode.extensions.all
        .map((e) => e.id)
        .filter((id) => !id.startsWith('vscode.'))
        .join(', ')}`,
    );
  });

  it('activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    assert.equal(ext.isActive, true);
  });
});
