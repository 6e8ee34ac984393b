// Settings through the drawer, in Chromium at 1280×800, against a real `streamdesk serve`:
// a saved change survives a reload, an out-of-range value is refused next to its field and never
// reaches the settings file, and the HTTP API answers a bad patch from the page's own origin
// with 400 and a field error. The pipeline is not started here.

import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { api, eventually, servedSession, textOf } from './helpers.js'

// This run's lake comes from the command line (serve --lake), the settings file names another.
const runLakeDir = mkdtempSync(join(tmpdir(), 'streamdesk-settings-run-'))
const runLake = join(runLakeDir, 'lake')
const session = servedSession({ name: 'settings', args: ['--lake', runLake] })
after(() => rmSync(runLakeDir, { recursive: true, force: true }))

before(async () => {
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the page to connect to the engine'
  })
})

const savedFile = () => JSON.parse(readFileSync(session.server.settingsFile, 'utf8'))

async function openDrawer() {
  await session.page.getByTestId('open-settings').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'visible' })
  // Fields render once the settings are loaded.
  await session.page.getByTestId('setting-pipeline.triggerMs').waitFor({ state: 'visible' })
}

async function closeDrawer() {
  await session.page.getByTestId('settings-close').click()
  await session.page.getByTestId('settings-drawer').waitFor({ state: 'detached' })
}

test('4. A setting saved in the drawer survives a page reload', async () => {
  await openDrawer()
  const trigger = session.page.getByTestId('setting-pipeline.triggerMs')
  const refresh = session.page.getByTestId('setting-dashboard.refreshSeconds')
  assert.equal(await trigger.inputValue(), '500')
  assert.equal(await refresh.inputValue(), '1')

  await trigger.fill('750')
  await refresh.fill('2.5')
  const save = session.page.getByTestId('settings-save')
  await eventually(() => save.isEnabled(), { message: 'Save to be enabled after an edit' })
  await save.click()
  await session.page.getByTestId('settings-saved').waitFor({ state: 'visible' })
  assert.match(await textOf(session.page.getByTestId('settings-saved')), /^Saved\./)

  // Persisted by the engine, not just kept in the page.
  await eventually(() => savedFile().pipeline?.triggerMs === 750 && savedFile().dashboard?.refreshSeconds === 2.5, {
    message: 'the settings file to hold the new values'
  })

  await session.page.reload()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the reloaded page to connect'
  })
  await openDrawer()
  assert.equal(await session.page.getByTestId('setting-pipeline.triggerMs').inputValue(), '750')
  assert.equal(await session.page.getByTestId('setting-dashboard.refreshSeconds').inputValue(), '2.5')
  assert.equal(await session.page.getByTestId('settings-save').isEnabled(), false, 'nothing to save right after opening')
  await closeDrawer()
})

test('5. An out-of-range refresh interval shows its error next to the field and is not saved', async () => {
  const before = readFileSync(session.server.settingsFile, 'utf8')
  await openDrawer()
  const refresh = session.page.getByTestId('setting-dashboard.refreshSeconds')
  const error = session.page.getByTestId('setting-error-dashboard.refreshSeconds')
  const save = session.page.getByTestId('settings-save')
  // Counts Enter key presses the page has handled and settings.update requests it has sent, so
  // "Enter does not save" is checked once the page has handled the key, not after a pause.
  await session.page.evaluate(() => {
    const seen = { enters: 0, updates: 0 }
    window.__e2eSettings = seen
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') seen.enters++
    })
    const send = WebSocket.prototype.send
    WebSocket.prototype.send = function (data) {
      if (typeof data === 'string' && data.includes('"settings.update"')) seen.updates++
      return send.call(this, data)
    }
  })

  let enters = 0
  for (const bad of ['0.1', '100']) {
    await refresh.fill(bad)
    await error.waitFor({ state: 'visible' })
    assert.match(await textOf(error), /between 0\.5 and 60/, `error for ${bad}`)
    assert.equal(await refresh.getAttribute('aria-invalid'), 'true')
    // The error sits with its field: inside the same .field block, referenced by aria-describedby.
    const describedBy = await refresh.getAttribute('aria-describedby')
    assert.equal(describedBy, await error.getAttribute('id'))
    assert.equal(await session.page.locator('.field', { has: refresh }).getByTestId('setting-error-dashboard.refreshSeconds').count(), 1)
    assert.equal(await save.isEnabled(), false, `Save is disabled with ${bad}`)
    // Enter in the field submits the form; that must not save either. A submit, and the save it
    // would start, run while the key is handled, so once the page has seen the key any request
    // has been sent.
    await refresh.press('Enter')
    enters++
    await session.page.waitForFunction((n) => window.__e2eSettings.enters === n, enters)
    assert.equal(await session.page.evaluate(() => window.__e2eSettings.updates), 0, `Enter with ${bad} sent no settings.update`)
    assert.equal(await session.page.getByTestId('settings-saved').count(), 0)
  }
  assert.match(await textOf(session.page.locator('.drawer-footer .note')), /1 field to fix/)

  // Nothing reached the engine: file unchanged, API still has the old value, a reload shows it.
  assert.equal(readFileSync(session.server.settingsFile, 'utf8'), before)
  assert.equal((await api(session.server.url, 'settings.get')).dashboard.refreshSeconds, 2.5)
  await session.page.reload()
  await eventually(async () => (await session.page.getByTestId('pipeline-state').getAttribute('data-state')) === 'stopped', {
    message: 'the reloaded page to connect'
  })
  await openDrawer()
  assert.equal(await session.page.getByTestId('setting-dashboard.refreshSeconds').inputValue(), '2.5')
  assert.equal(await session.page.getByTestId('setting-error-dashboard.refreshSeconds').count(), 0)
  await closeDrawer()
})

test("browser mode: bad API payloads from the page's origin get 400 with a field error", async () => {
  const results = await session.page.evaluate(async () => {
    const post = async (name, body) => {
      const res = await fetch(`/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body)
      })
      return { status: res.status, body: await res.json() }
    }
    return {
      tooSmall: await post('settings.update', { patch: { dashboard: { refreshSeconds: 0.1 } } }),
      wrongType: await post('settings.update', { patch: { pipeline: { triggerMs: 'fast' } } }),
      unknownKey: await post('settings.update', { patch: { dashboard: { colour: 'red' } } }),
      noPatch: await post('settings.update', {}),
      malformed: await post('settings.update', '{"patch": '),
      unknownMethod: await post('settings.destroy', {})
    }
  })

  assert.equal(results.tooSmall.status, 400)
  assert.equal(results.tooSmall.body.type, 'validation')
  assert.deepEqual(
    results.tooSmall.body.fields.map((f) => f.field),
    ['dashboard.refreshSeconds']
  )
  assert.match(results.tooSmall.body.fields[0].message, /0\.5/)

  assert.equal(results.wrongType.status, 400)
  assert.deepEqual(results.wrongType.body.fields.map((f) => f.field), ['pipeline.triggerMs'])

  assert.equal(results.unknownKey.status, 400)
  assert.equal(results.unknownKey.body.type, 'validation')
  assert.ok(results.unknownKey.body.fields?.length > 0, JSON.stringify(results.unknownKey.body))

  assert.equal(results.noPatch.status, 400)
  assert.deepEqual(results.noPatch.body.fields.map((f) => f.field), ['patch'])

  assert.equal(results.malformed.status, 400)
  assert.match(results.malformed.body.message, /malformed JSON/)

  assert.equal(results.unknownMethod.status, 404)
  assert.equal(results.unknownMethod.body.type, 'unknown-method')

  // None of that changed anything.
  const now = await api(session.server.url, 'settings.get')
  assert.equal(now.dashboard.refreshSeconds, 2.5)
  assert.equal(now.pipeline.triggerMs, 750)
  assert.equal(savedFile().dashboard.refreshSeconds, 2.5)
})

test("a lake folder given with --lake is marked as this run's only, and Save keeps the file's until the field is changed", async () => {
  await openDrawer()
  const field = session.page.getByTestId('setting-lakePath')
  assert.equal(await field.inputValue(), runLake)
  const note = session.page.getByTestId('setting-override-lakePath')
  await note.waitFor({ state: 'visible' })
  assert.match(await textOf(note), /command line for this run only/)
  assert.ok((await textOf(note)).includes(session.server.lake), await textOf(note))
  // the other fields came from the file
  assert.equal(await session.page.getByTestId('setting-override-source.inputPath').count(), 0)
  // earlier saves in this file left the file's lake folder alone
  assert.equal(savedFile().lakePath, session.server.lake)

  // saving the field writes it to the file, and it is no longer overridden
  const chosen = join(runLakeDir, 'chosen-lake')
  await field.fill(chosen)
  await session.page.getByTestId('settings-save').click()
  await eventually(() => savedFile().lakePath === chosen, { message: 'the chosen lake folder to be saved' })
  await note.waitFor({ state: 'detached' })
  assert.deepEqual(await api(session.server.url, 'settings.overrides'), [])
  await closeDrawer()
})

test('the page logged no errors along the way', () => {
  // The 400/404 answers above are expected; Chromium logs failed fetches as console errors.
  const unexpected = session.browser.problems.filter((p) => !/status of 40[04]/.test(p))
  assert.deepEqual(unexpected, [])
})
