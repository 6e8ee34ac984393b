import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { parseSettings, SettingsError, type Settings } from '../../shared/settings'
import { CliError } from './errors'
import { plainFileCodec, SecretStore, secretsFileFor } from '../engine/secret-store'

// `--settings FILE` for `pipeline` and `run`: the settings file `serve` and the app use (the
// same JSON; every field optional), so a run from the terminal converts, scores and guards event
// times like the app. Unlike the app, which starts with defaults when its file is broken, a file
// named on the command line must be readable and valid: a run with other settings than asked for
// would write the lake with them.

/** The settings in `file`; CliError (exit 2) naming the file and every bad field. */
export function readSettingsFile(file: string): Settings {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(`settings file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new CliError(`settings file ${file} is not valid JSON: ${(err as Error).message}`)
  }
  try {
    return parseSettings(json)
  } catch (err) {
    if (err instanceof SettingsError) throw new CliError(`settings file ${file}: ${err.message}`)
    throw err
  }
}

/**
 * The settings a `pipeline` or `run` command runs with: the file's, if any. Its lake and input
 * folders and trigger apply where --lake / --input-path / --trigger were not given (their
 * defaults are the settings' defaults).
 */
export function applySettingsFile<F extends { settings?: string; lake: string; inputPath: string; trigger: number }>(
  flags: F,
  command: Command
): { flags: F; base: Settings | undefined } {
  if (!flags.settings) return { flags, base: undefined }
  const base = readSettingsFile(flags.settings)
  const given = (name: string) => command.getOptionValueSource(name) !== 'default'
  return {
    flags: {
      ...flags,
      lake: given('lake') ? flags.lake : base.lakePath,
      inputPath: given('inputPath') ? flags.inputPath : base.source.inputPath,
      trigger: given('trigger') ? flags.trigger : base.pipeline.triggerMs
    },
    base
  }
}

/**
 * The secrets a settings file names by reference (`serve` stored them beside it): plain Node has
 * no OS keychain, so this reads the 0600 file as it is; a secret the desktop app encrypted is
 * refused with what to do. A secret written in the settings file itself needs none of this.
 */
export function settingsSecrets(file: string): SecretStore {
  return new SecretStore(secretsFileFor(file), plainFileCodec)
}
