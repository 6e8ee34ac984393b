import { Notification } from 'electron'
import type { EngineHost } from '../api/host'
import { AlertBatcher } from './alert-batcher'

// Desktop notifications for new fraud alerts ('alerts.new'), batched and rate-limited by
// AlertBatcher, and only while settings.dashboard.notifications is on.

export function startAlertNotifications(host: EngineHost, onClick: () => void): () => void {
  if (!Notification.isSupported()) return () => {}
  // Keep shown notifications referenced so their click handlers are not garbage-collected.
  const live = new Set<Notification>()
  const batcher = new AlertBatcher({
    isEnabled: async () => (await host.handlers['settings.get']({})).dashboard.notifications,
    show: (notice) => {
      const n = new Notification({ title: notice.title, body: notice.body })
      live.add(n)
      const release = (): void => {
        live.delete(n)
      }
      n.on('click', () => {
        release()
        onClick()
      })
      n.on('close', release)
      n.on('failed', release)
      n.show()
      // Linux notification daemons do not always report close; do not hold them forever.
      setTimeout(release, 10 * 60_000).unref?.()
    }
  })
  const off = host.events.subscribe('alerts.new', (alerts) => batcher.add(alerts))
  return () => {
    off()
    batcher.dispose()
    live.clear()
  }
}
