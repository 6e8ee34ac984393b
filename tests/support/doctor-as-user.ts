// `streamdesk doctor ARGS` as another user: tests/support/doctor-as-user.ts UID ARGS…
//
// The tests run as root, for whom permission bits stop nothing, so a lake folder a user cannot
// write needs another user. Everything the command runs is loaded first, as root, so this works
// wherever the repository is, even in a folder that user cannot read; then the process becomes
// that user and runs the command.

import { Command } from 'commander'
import { registerDoctor } from '../../src/main/cli/commands/doctor'

const [uidArg, ...args] = process.argv.slice(2)
const uid = Number(uidArg)
const program = new Command().name('streamdesk').exitOverride()
registerDoctor(program)
process.setgroups?.([uid])
process.setgid?.(uid)
process.setuid?.(uid)
await program.parseAsync(['doctor', ...args], { from: 'user' })
