// Dev aid: screenshot a running dashboard. node scripts/dev/shot.mjs URL OUT.png [tab-testid]
import { chromium } from 'playwright-core'
const [url, out, tab] = process.argv.slice(2)
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()))
await page.goto(url)
await page.waitForTimeout(2500)
if (tab) { await page.getByTestId(tab).click(); await page.waitForTimeout(1500) }
await page.screenshot({ path: out })
await browser.close()
