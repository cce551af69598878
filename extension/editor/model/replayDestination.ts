import { basename, dirname, join } from 'node:path';

/**
 * Where Replay and Compare put the rebuilt RAM images. Images are as big as the guest's RAM, so the default is
 * never the capture's folder itself (often the workspace): it is a folder of their own beside the capture,
 * `<capture>.replay/`, created on demand, or the folder the `multifdInspector.replay.defaultFolder` setting
 * names. Compare can also run without keeping them: a temporary folder removed once the comparison is done.
 */
export type ReplayDestination =
  | { kind: 'folder'; dir: string; label: string; detail: string }
  | { kind: 'choose'; label: string; detail: string }
  | { kind: 'temporary'; label: string; detail: string };

/** `<capture>.replay/`, beside the capture. */
export function besideCapture(capturePath: string): string {
  return join(dirname(capturePath), `${basename(capturePath)}.replay`);
}

/** The choices offered, the default first; `configured` is the setting's folder, already expanded. */
export function replayDestinations(
  capturePath: string,
  opts: { configured?: string; compare: boolean },
): ReplayDestination[] {
  const dir = opts.configured ?? besideCapture(capturePath);
  const first: ReplayDestination = {
    kind: 'folder',
    dir,
    label: opts.configured
      ? `Into ${basename(dir)}/ (multifdInspector.replay.defaultFolder)`
      : `Into ${basename(dir)}/`,
    detail: `${dir}${opts.configured ? '' : ' — beside the capture, created if missing'}`,
  };
  const temporary: ReplayDestination = {
    kind: 'temporary',
    label: 'Compare without keeping the images',
    detail: 'rebuilt in a temporary folder that is removed once the comparison is done',
  };
  const choose: ReplayDestination = {
    kind: 'choose',
    label: 'Choose Another Folder…',
    detail: 'existing images there are replaced only after you confirm',
  };
  return opts.compare ? [first, temporary, choose] : [first, choose];
}
