import { describe, expect, it } from 'vitest'
import { spawnCli } from '../support/kafka-processes'

// The README promises exit codes scripts can branch on: 2 for bad input. Commander's own errors
// (unknown command or option, missing value, too many arguments) exit 1 unless the CLI maps them,
// so these run the real CLI and read the process's exit code.

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawnCli(args)
  const { code } = await child.exited
  return { code, stderr: child.stderr() }
}

describe('CLI exit codes', () => {
  it('an unknown command exits 2 and keeps the "did you mean" hint', async () => {
    const { code, stderr } = await run(['pipline'])
    expect(stderr).toContain("error: unknown command 'pipline'")
    expect(stderr).toContain('(Did you mean pipeline?)')
    expect(code).toBe(2)
  })

  it('an unknown option exits 2 and keeps the "did you mean" hint', async () => {
    const { code, stderr } = await run(['generate', '--ouput', 'x'])
    expect(stderr).toContain("error: unknown option '--ouput'")
    expect(stderr).toContain('(Did you mean --output?)')
    expect(code).toBe(2)
  })

  it.each([
    { args: ['export'], says: "error: required option '--out <dir>' not specified" },
    { args: ['generate', '--count'], says: "error: option '--count <n>' argument missing" },
    { args: ['generate', 'extra'], says: "error: too many arguments for 'generate'" },
    { args: ['help', 'nope'], says: 'Usage: streamdesk' },
    { args: [], says: 'Usage: streamdesk' }
  ])('streamdesk $args exits 2 and says what is wrong', async ({ args, says }) => {
    const { code, stderr } = await run(args)
    expect(stderr).toContain(says)
    expect(code).toBe(2)
  })

  it('an invalid flag value exits 2 with a message naming the flag', async () => {
    const { code, stderr } = await run(['generate', '--rate', 'abc'])
    expect(stderr).toContain("streamdesk: --rate must be a positive number (orders per second) or 'max', got 'abc'")
    expect(code).toBe(2)
  })

  it.each([{ args: ['--help'] }, { args: ['--version'] }, { args: ['generate', '--help'] }, { args: ['help'] }])('streamdesk $args exits 0', async ({ args }) => {
    const { code, stderr } = await run(args)
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })
})
