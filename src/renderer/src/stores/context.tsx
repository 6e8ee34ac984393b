import { createContext, useContext } from 'react'
import { useStore, type StoreApi } from 'zustand'
import type { ThemeName } from '../charts/palette'
import type { AppStores } from './stores'

export const StoresContext = createContext<AppStores | null>(null)
export const ThemeContext = createContext<ThemeName>('light')

export function useStores(): AppStores {
  const stores = useContext(StoresContext)
  if (!stores) throw new Error('useStores outside <StoresContext.Provider>')
  return stores
}

/** Subscribes a component to a slice of one store. */
export function useSlice<S, T>(store: StoreApi<S>, selector: (state: S) => T): T {
  return useStore(store, selector)
}

export const useThemeName = (): ThemeName => useContext(ThemeContext)
