// One helper for the message of something thrown. It lives in extension/shared, the layer below core that the
// webview may import; host code imports it from here or from there alike.
export { errorDetail, errorMessage } from '../../shared/errorMessage';
