import { useEffect, useMemo, useState } from 'react'
import type { ThemeName } from '../charts/palette'
import { paletteFor } from '../charts/palette'
import type { BuildContext } from '../charts/options'
import { useSlice, useStores, useThemeName } from '../stores/context'

const DARK_QUERY = '(prefers-color-scheme: dark)'

/** The theme in effect: settings.dashboard.theme, or the OS preference for "system". */
export function useEffectiveTheme(): ThemeName {
  const { settings } = useStores()
  const pref = useSlice(settings, (s) => s.settings?.dashboard.theme ?? 'system')
  const [systemDark, setSystemDark] = useState(() => window.matchMedia?.(DARK_QUERY).matches ?? false)
  useEffect(() => {
    const mq = window.matchMedia?.(DARK_QUERY)
    if (!mq) return
    const on = (e: MediaQueryListEvent) => setSystemDark(e.matches)
    mq.addEventListener('change', on)
    return () => mq.removeEventListener('change', on)
  }, [])
  const theme: ThemeName = pref === 'system' ? (systemDark ? 'dark' : 'light') : pref
  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])
  return theme
}

/**
 * The reporting currency every total is in: the lake's (it keeps the one its orders were
 * converted to), else the settings' for a lake no run has written yet.
 */
export function useCurrency(): string {
  const { dashboard, settings } = useStores()
  const lake = useSlice(dashboard, (s) => s.snapshot?.currency)
  const configured = useSlice(settings, (s) => s.settings?.reporting.currency)
  return lake ?? configured ?? 'USD'
}

/** Palette + currency for the chart option builders. */
export function useChartContext(): BuildContext {
  const theme = useThemeName()
  const currency = useCurrency()
  return useMemo(() => ({ palette: paletteFor(theme), currency }), [theme, currency])
}
