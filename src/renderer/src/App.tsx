import { useCallback, useEffect, useState } from 'react'
import { ExportDialog } from './features/export/ExportDialog'
import { FraudTab } from './features/fraud/FraudTab'
import { Counters, Header, StatusBanner } from './features/header/Header'
import { HealthBanner } from './features/header/HealthBanner'
import { useEffectiveTheme } from './features/hooks'
import { MetricsTab } from './features/metrics/MetricsTab'
import { OrdersTab } from './features/orders/OrdersTab'
import { PipelineTab } from './features/pipeline/PipelineTab'
import { RulesTab } from './features/rules/RulesTab'
import { SettingsDrawer } from './features/settings/SettingsDrawer'
import { SqlTab } from './features/sql/SqlTab'
import { PausedBanner, PauseButton } from './features/live/LiveUpdates'
import { formatNumber } from './lib/format'
import { ThemeContext, useSlice, useStores } from './stores/context'

const TABS = [
  { id: 'metrics', label: 'Metrics' },
  { id: 'fraud', label: 'Fraud' },
  { id: 'orders', label: 'Recent orders' },
  { id: 'pipeline', label: 'Pipeline' },
  { id: 'sql', label: 'SQL' },
  { id: 'rules', label: 'Rules' }
] as const
type TabId = (typeof TABS)[number]['id']

const tabFromHash = (): TabId => {
  const h = window.location.hash.replace(/^#\/?/, '')
  return (TABS.find((t) => t.id === h)?.id ?? 'metrics') as TabId
}

function AlertToast({ onView }: { onView(): void }) {
  const { notices } = useStores()
  const count = useSlice(notices, (s) => s.newAlerts)
  const at = useSlice(notices, (s) => s.lastAlertAt)
  useEffect(() => {
    if (!count) return
    const t = setTimeout(() => notices.getState().dismiss(), 8000)
    return () => clearTimeout(t)
  }, [count, at, notices])
  if (!count) return null
  return (
    <div className="toast" role="status" data-testid="alert-toast">
      <span>
        <strong>{formatNumber(count)}</strong> new fraud alert{count === 1 ? '' : 's'}
      </span>
      <button type="button" className="btn small" onClick={onView}>
        View
      </button>
      <button type="button" className="btn small ghost" onClick={() => notices.getState().dismiss()} aria-label="Dismiss">
        ×
      </button>
    </div>
  )
}

export function App() {
  const { notices, orderSearch } = useStores()
  const theme = useEffectiveTheme()
  const [tab, setTab] = useState<TabId>(tabFromHash)
  const [settingsOpen, setSettingsOpen] = useState(false)
  const [exportOpen, setExportOpen] = useState(false)
  const newAlerts = useSlice(notices, (s) => s.newAlerts)

  useEffect(() => {
    const onHash = () => setTab(tabFromHash())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])

  const select = useCallback((id: TabId) => {
    setTab(id)
    if (window.location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`)
  }, [])

  const openOrder = useCallback(
    (orderId: string) => {
      void orderSearch.getState().showOrder(orderId)
      select('orders')
    },
    [orderSearch, select]
  )

  useEffect(() => {
    if (tab === 'fraud' && newAlerts > 0) notices.getState().dismiss()
  }, [tab, newAlerts, notices])

  const closeSettings = useCallback(() => setSettingsOpen(false), [])
  const closeExport = useCallback(() => setExportOpen(false), [])

  return (
    <ThemeContext.Provider value={theme}>
      <div className="app">
        <Header onOpenSettings={() => setSettingsOpen(true)} onOpenExport={() => setExportOpen(true)} />
        <div className="subbar">
          <nav className="tabs" role="tablist" aria-label="Views">
            {TABS.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                className="tab"
                aria-selected={tab === t.id}
                aria-controls={`panel-${t.id}`}
                onClick={() => select(t.id)}
                data-testid={`tab-${t.id}`}
              >
                {t.label}
                {t.id === 'fraud' && newAlerts > 0 && tab !== 'fraud' && <span className="count">{newAlerts > 99 ? '99+' : newAlerts}</span>}
              </button>
            ))}
          </nav>
          <div className="spacer" />
          {/* In the bar, not over the page: it never covers a table. */}
          {tab !== 'fraud' && !settingsOpen && !exportOpen && <AlertToast onView={() => select('fraud')} />}
          <PauseButton />
          <Counters />
        </div>
        <StatusBanner />
        <HealthBanner />
        <PausedBanner />
        <main className="content" id={`panel-${tab}`} role="tabpanel" data-testid={`panel-${tab}`}>
          {tab === 'metrics' && <MetricsTab />}
          {tab === 'fraud' && <FraudTab />}
          {tab === 'orders' && <OrdersTab />}
          {tab === 'pipeline' && <PipelineTab />}
          {tab === 'sql' && <SqlTab />}
          {tab === 'rules' && <RulesTab onOpenOrder={openOrder} />}
        </main>
        {settingsOpen && <SettingsDrawer onClose={closeSettings} />}
        {exportOpen && <ExportDialog onClose={closeExport} />}
      </div>
    </ThemeContext.Provider>
  )
}
