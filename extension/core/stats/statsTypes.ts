// The stats' types are declared once, in extension/shared, since the editor's webview draws them too.
export type * from '../../shared/captureStats';
