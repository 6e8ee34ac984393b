import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { Command } from 'commander'
import { defaultSettings, type FraudSettings } from '../../../shared/settings'
import * as rules from '../../engine/rules-service'
import { LakeError, type Lake } from '../../lake/lake'
import { acquireLake } from '../../lake/lake-registry'
import { RulesStoreError } from '../../lake/rules-store'
import { DefaultRulesetError, importListFile, ListError, parseRulesetJson, RulesetError, TimeRangeError, type BacktestReport, type Ruleset } from '../../rules'
import type { ShadowReport } from '../../../shared/rules'
import { CliError } from '../errors'
import { parsePositive } from '../options'
import { readSettingsFile } from '../settings-file'

// `streamdesk rules …`: the lake's fraud rules from scripts and CI (names and JSON shapes are a
// contract: docs/RULES.md). Exit 2 for a bad rules or list file (with each error's position),
// 3 when the lake is missing or another process holds it.

const EXIT_BAD_INPUT = 2
const EXIT_LAKE_UNAVAILABLE = 3

interface LakeFlags {
  lake: string
  settings?: string
}

/** The fraud settings version 1 is seeded from (a lake that has no version yet). */
function fraudSettings(flags: LakeFlags): FraudSettings {
  return (flags.settings ? readSettingsFile(flags.settings) : defaultSettings()).fraud
}

/** Runs `work` on the lake, mapping what a person can fix to its exit code. */
async function withLake<T>(flags: LakeFlags, work: (lake: Lake, fraud: FraudSettings) => Promise<T>): Promise<T> {
  const fraud = fraudSettings(flags)
  let lake: Lake
  try {
    lake = await acquireLake(flags.lake, { create: false })
  } catch (err) {
    if (err instanceof LakeError) throw new CliError(err.message, EXIT_LAKE_UNAVAILABLE)
    throw err
  }
  try {
    return await work(lake, fraud)
  } catch (err) {
    if (err instanceof RulesetError) throw new CliError(`the rules do not check:\n${err.message}`, EXIT_BAD_INPUT)
    if (err instanceof ListError || err instanceof TimeRangeError || err instanceof RulesStoreError || err instanceof DefaultRulesetError) {
      throw new CliError(err.message, EXIT_BAD_INPUT)
    }
    throw err
  } finally {
    await lake.close()
  }
}

/** A rules file's shape (its conditions are checked against the lake's lists later). */
export function readRulesFile(file: string): Ruleset {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(`rules file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`, EXIT_BAD_INPUT)
  }
  try {
    return parseRulesetJson(text)
  } catch (err) {
    if (err instanceof RulesetError) throw new CliError(`rules file ${file}:\n${err.message}`, EXIT_BAD_INPUT)
    throw err
  }
}

const osUser = (): string => {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`)

function printBacktest(r: BacktestReport): void {
  const range = `${r.from ?? 'the first order'} to ${r.to ?? 'the last'}`
  console.log(`orders ${r.orders} (${range})`)
  console.log(`current alerts ${r.current_alerts}, candidate alerts ${r.candidate_alerts} (threshold ${r.candidate_threshold}): gained ${r.gained}, lost ${r.lost}`)
  if (r.labels) {
    const { current: c, candidate: k } = r.labels
    console.log(`labelled fraud ${r.labels.fraud}, legit ${r.labels.legit}`)
    console.log(`  current:   caught ${c.caught}, missed ${c.missed}, legit flagged ${c.legit_flagged}, precision ${pct(c.precision)}, recall ${pct(c.recall)}`)
    console.log(`  candidate: caught ${k.caught}, missed ${k.missed}, legit flagged ${k.legit_flagged}, precision ${pct(k.precision)}, recall ${pct(k.recall)}`)
  }
  console.log('rule                              points  matched   alerts   gained     lost  precision')
  for (const p of r.per_rule) {
    console.log(
      `${p.id.padEnd(32)} ${String(p.points).padStart(7)} ${String(p.matched).padStart(8)} ${String(p.alerts).padStart(8)} ${String(p.gained).padStart(8)} ${String(p.lost).padStart(8)}  ${pct(p.labels?.precision ?? null)}`
    )
  }
}

function printShadow(r: ShadowReport | null): void {
  if (!r) return console.log('no shadow has run in this lake')
  const state = r.run.endedAt === null ? 'running' : `ended ${r.run.endedAt}: ${r.run.outcome}`
  console.log(`shadow ${r.run.shadowId} (${state}), started ${r.run.startedAt} by ${r.run.startedBy}${r.run.note ? `: ${r.run.note}` : ''}`)
  console.log(`orders scored ${r.orders}: live alerts ${r.live_alerts}, shadow alerts ${r.shadow_alerts}, both ${r.both}, live only ${r.live_only}, shadow only ${r.shadow_only}`)
  for (const p of r.per_rule) console.log(`  ${p.id.padEnd(32)} ${String(p.matched).padStart(8)} matched`)
}

export function registerRules(program: Command): void {
  const cmd = program.command('rules').description("The lake's fraud rules: list, export, backtest, promote, versions, lists")
  const lakeOptions = (c: Command) =>
    c
      .option('--lake <dir>', 'lake folder (holds lake.duckdb); it must exist', 'lake')
      .option('--settings <file>', 'settings file whose fraud weights seed version 1 of a lake that has none yet')

  lakeOptions(cmd.command('list').description('Print the active ruleset: version, threshold and each rule')).action(async (flags: LakeFlags) => {
    await withLake(flags, async (lake, fraud) => {
      const a = await rules.active(lake, fraud)
      console.log(a.version === null ? 'version 1 (not stored yet: the first run stores it, from the fraud settings)' : `version ${a.version}`)
      console.log(`threshold ${a.ruleset.threshold}`)
      for (const r of a.ruleset.rules) console.log(`${r.id.padEnd(32)} ${(r.points >= 0 ? '+' : '') + r.points}\t${r.when}`)
    })
  })

  lakeOptions(cmd.command('export').description('Print the active ruleset (or --version N) as JSON'))
    .option('--version <n>', 'a stored version instead of the active one', parsePositive('--version', { integer: true }))
    .action(async (flags: LakeFlags & { version?: number }) => {
      await withLake(flags, async (lake, fraud) => {
        let ruleset: Ruleset
        if (flags.version === undefined) ruleset = (await rules.active(lake, fraud)).ruleset
        else {
          const v = (await rules.versions(lake)).find((x) => x.version === flags.version)
          if (!v) throw new CliError(`there is no ruleset version ${flags.version} in this lake (see \`streamdesk rules versions\`)`, EXIT_BAD_INPUT)
          ruleset = v.ruleset
        }
        console.log(JSON.stringify(ruleset, null, 2))
      })
    })

  lakeOptions(cmd.command('versions').description('Every promoted version, newest first'))
    .option('--json', 'one JSON array', false)
    .action(async (flags: LakeFlags & { json: boolean }) => {
      await withLake(flags, async (lake) => {
        const all = await rules.versions(lake)
        if (flags.json) return console.log(JSON.stringify(all.map((v) => ({ version: v.version, promoted_by: v.promotedBy, promoted_at: v.promotedAt, note: v.note, restored_from: v.restoredFrom, rules: v.ruleset.rules.length, threshold: v.ruleset.threshold }))))
        if (all.length === 0) console.log('no version yet: the first run stores version 1, from the fraud settings')
        for (const v of all) {
          const restored = v.restoredFrom === null ? '' : ` (restores ${v.restoredFrom})`
          console.log(`${String(v.version).padStart(4)}  ${v.promotedAt}  ${v.promotedBy}${restored}  ${v.note}`)
        }
      })
    })

  lakeOptions(cmd.command('backtest').description('Run a candidate ruleset over silver and compare it with the scores silver holds'))
    .requiredOption('--rules <file>', 'the candidate ruleset (JSON, as `rules export` prints)')
    .option('--from <time>', 'first order_ts (ISO time), inclusive')
    .option('--to <time>', 'last order_ts (ISO time), exclusive')
    .option('--json', 'print one JSON object', false)
    .action(async (flags: LakeFlags & { rules: string; from?: string; to?: string; json: boolean }) => {
      const candidate = readRulesFile(flags.rules)
      await withLake(flags, async (lake, fraud) => {
        const report = await rules.backtestRuleset(lake, fraud, { candidate, from: flags.from, to: flags.to })
        if (flags.json) console.log(JSON.stringify(report))
        else printBacktest(report)
      })
    })

  lakeOptions(cmd.command('promote').description('Make a ruleset file the active version (--rules), or promote an earlier version again (--restore)'))
    .option('--rules <file>', 'the ruleset to promote (JSON)')
    .option('--restore <n>', 'promote version N again (a rollback)', parsePositive('--restore', { integer: true }))
    .option('--note <text>', 'why (kept with the version)', '')
    .action(async (flags: LakeFlags & { rules?: string; restore?: number; note: string }) => {
      if ((flags.rules === undefined) === (flags.restore === undefined)) throw new CliError('give either --rules FILE or --restore N', EXIT_BAD_INPUT)
      const candidate = flags.rules === undefined ? null : readRulesFile(flags.rules)
      await withLake(flags, async (lake, fraud) => {
        const v = candidate ? await rules.promote(lake, fraud, candidate, osUser(), flags.note) : await rules.restore(lake, fraud, flags.restore!, osUser(), flags.note)
        console.log(`version ${v.version} is active${v.restoredFrom === null ? '' : ` (the rules of version ${v.restoredFrom})`}`)
      })
    })

  const shadow = cmd.command('shadow').description('A candidate ruleset scoring new batches beside the active version, its scores kept apart')
  lakeOptions(shadow.command('start').description('Start a ruleset file in shadow (the next runs of the pipeline score with it too)'))
    .requiredOption('--rules <file>', 'the candidate ruleset (JSON)')
    .option('--note <text>', 'why', '')
    .action(async (flags: LakeFlags & { rules: string; note: string }) => {
      const candidate = readRulesFile(flags.rules)
      await withLake(flags, async (lake, fraud) => {
        const run = await rules.shadowStart(lake, fraud, candidate, osUser(), flags.note)
        console.log(`shadow ${run.shadowId} is running`)
      })
    })
  lakeOptions(shadow.command('status').description('Live against shadow over the orders the running (or last) shadow scored'))
    .option('--json', 'print one JSON object (null if no shadow has run)', false)
    .action(async (flags: LakeFlags & { json: boolean }) => {
      await withLake(flags, async (lake) => {
        const r = await rules.shadow(lake)
        if (flags.json) console.log(JSON.stringify(r))
        else printShadow(r)
      })
    })
  lakeOptions(shadow.command('promote').description("Make the running shadow's rules the active version"))
    .option('--note <text>', 'why (kept with the version)', '')
    .action(async (flags: LakeFlags & { note: string }) => {
      await withLake(flags, async (lake) => {
        const v = await rules.shadowPromote(lake, osUser(), flags.note)
        console.log(`version ${v.version} is active (the rules of the shadow)`)
      })
    })
  lakeOptions(shadow.command('drop').description('Stop the running shadow; its scores stay')).action(async (flags: LakeFlags) => {
    await withLake(flags, async (lake) => {
      const run = await rules.shadowDrop(lake)
      console.log(`shadow ${run.shadowId} dropped`)
    })
  })

  lakeOptions(cmd.command('list-import').description('Create or replace a named list from a text file (one value per line)'))
    .argument('<name>', 'the list name, as rules use it: list(\'NAME\')')
    .argument('<file>', 'text file: one value per line; blank lines and lines starting with # are skipped')
    .option('--description <text>', 'what the list holds', '')
    .action(async (name: string, file: string, flags: LakeFlags & { description: string }) => {
      let list
      try {
        list = await importListFile(file, name, flags.description)
      } catch (err) {
        if (err instanceof ListError) throw new CliError(err.message, EXIT_BAD_INPUT)
        throw err
      }
      await withLake(flags, async (lake) => {
        await rules.setList(lake, list, osUser())
        console.log(`list ${name}: ${list.values.length} values`)
      })
    })
}
