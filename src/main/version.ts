// Injected at build time would be nicer; reading package.json at run time works in every
// entry (CLI, Electron, tests) without a bundler define.
export const APP_VERSION = '0.1.0'
