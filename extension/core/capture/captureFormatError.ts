/** Raised for input that is not a capture at all; the message names the bytes found and those expected. */
export class CaptureFormatError extends Error {}
