import type { Locator } from 'playwright-core';
import type { Workbench } from './workbench';

/** The custom editor's name in the Open With… picker, for every input that is not a `.mfd` file. */
export const INSPECTOR_EDITOR_NAME = 'Multifd Inspector (pcap, raw dumps and other inputs)';

const visibleWithin = (l: Locator, timeout: number) =>
  l.waitFor({ state: 'visible', timeout }).then(
    () => true,
    () => false,
  );

/** Waits for the quick pick item with this text and accepts it. */
export async function pickQuickItem(wb: Workbench, text: string | RegExp): Promise<void> {
  const row = wb.page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ hasText: text })
    .first();
  await row.waitFor({ state: 'visible', timeout: 60_000 });
  await row.click();
}

/** Explorer → right click → Open With… → the Multifd Inspector. */
export async function openWithInspector(wb: Workbench, name: string): Promise<void> {
  const row = await wb.waitForExplorerItem(name);
  const item = wb.page
    .locator('.context-view .monaco-menu .action-item')
    .filter({ hasText: /^Open With/ })
    .first();
  const picker = wb.page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ hasText: INSPECTOR_EDITOR_NAME })
    .first();
  // A click that lands while the context menu is still animating in is dropped: then Enter takes the highlighted item.
  for (let attempt = 0; ; attempt++) {
    if (!(await item.isVisible())) await row.click({ button: 'right' });
    await item.waitFor({ state: 'visible' });
    await item.click();
    if (await visibleWithin(picker, 5_000)) break;
    if (await item.isVisible()) {
      await wb.page.keyboard.press('Enter');
      if (await visibleWithin(picker, 5_000)) break;
    }
    if (attempt >= 3) throw new Error(`Open With… on ${name} did not show the editor picker`);
  }
  await pickQuickItem(wb, INSPECTOR_EDITOR_NAME);
}
