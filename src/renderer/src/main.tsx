import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import type { AlertRow } from '../../shared/dto'
import { App } from './App'
import { createClient } from './client'
import { orderMoney } from './lib/format'
import { StoresContext } from './stores/context'
import { createAppStores } from './stores/stores'
import './styles.css'

// Before the first paint: follow the OS theme until settings say otherwise (no white flash).
document.documentElement.dataset.theme = window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'

/** A system notification for new alerts, only while the window is in the background. */
function notify(alerts: AlertRow[]): void {
  if (!document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return
  const top = alerts.reduce((a, b) => (b.fraudScore > a.fraudScore ? b : a))
  try {
    new Notification(alerts.length === 1 ? 'New fraud alert' : `${alerts.length} new fraud alerts`, {
      body: `${top.orderId}: ${orderMoney(top).shown}, score ${Math.round(top.fraudScore)}`,
      tag: 'streamdesk-alerts'
    })
  } catch {
    // Notifications unavailable (e.g. insecure context): the in-app toast still shows.
  }
}

const { client, connection } = createClient()
const stores = createAppStores(client, connection, { onNewAlerts: notify })
void stores.sync()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoresContext.Provider value={stores}>
      <App />
    </StoresContext.Provider>
  </StrictMode>
)
