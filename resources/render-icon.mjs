// Renders resources/icon.svg to resources/icon.png (512×512, transparent corners) with headless
// Chromium through playwright-core. Run: node resources/render-icon.mjs [path-to-chromium]
// The PNG is committed; rerun only after editing the SVG.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const svgPath = fileURLToPath(new URL('./icon.svg', import.meta.url))
const pngPath = fileURLToPath(new URL('./icon.png', import.meta.url))
const executablePath = process.argv[2] ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
try {
  const page = await browser.newPage({ viewport: { width: 512, height: 512 }, deviceScaleFactor: 1 })
  const svg = readFileSync(svgPath, 'utf8')
  await page.setContent(
    `<!doctype html><html><body style="margin:0;background:transparent">${svg}</body></html>`
  )
  await page.locator('svg').screenshot({ path: pngPath, omitBackground: true })
  console.log(`wrote ${pngPath}`)
} finally {
  await browser.close()
}
