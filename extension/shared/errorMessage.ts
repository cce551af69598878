// The webview reaches shared code only through extension/shared: the one helper, re-exported.
export { errorMessage } from '../core/util/errorMessage';
