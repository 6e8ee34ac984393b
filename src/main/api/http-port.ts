/** The port `streamdesk serve` listens on (127.0.0.1) unless --port says otherwise. */
export const DEFAULT_HTTP_PORT = 8502
