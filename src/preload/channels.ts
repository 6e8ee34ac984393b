// IPC channel names shared by the preload and the shell. Kept in this dependency-free module
// (instead of importing src/shared/api, which pulls zod) so the sandboxed preload bundle
// requires nothing but 'electron'. tests/unit/ipc-binding.test.ts checks the first two equal
// IPC_INVOKE_CHANNEL / IPC_EVENT_CHANNEL from src/shared/api.

export const INVOKE_CHANNEL = 'streamdesk:invoke'
export const EVENT_CHANNEL = 'streamdesk:event'
/** Native folder picker; argument { defaultPath?: absolute path }; replies with a path or null. */
export const PICK_FOLDER_CHANNEL = 'streamdesk:pick-folder'
/** Reveals an existing file or folder in the OS file manager; argument: absolute path. */
export const SHOW_IN_FOLDER_CHANNEL = 'streamdesk:show-in-folder'
