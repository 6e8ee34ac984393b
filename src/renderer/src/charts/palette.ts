// Chart colours per theme; they mirror the CSS variables in styles.css so canvases match the DOM.

export type ThemeName = 'light' | 'dark'

export interface ChartPalette {
  name: ThemeName
  text: string
  textMuted: string
  axisLine: string
  splitLine: string
  tooltipBg: string
  tooltipBorder: string
  accent: string
  accentSoft: string
  secondary: string
  /** The secondary colour, faint: fills of a bar still filling. */
  secondarySoft: string
  success: string
  warning: string
  danger: string
  /** Band behind the window still filling: neutral, unlike any series. */
  inProgress: string
  /** Low -> high fraud score. */
  scoreScale: [string, string, string]
  series: string[]
  status: Record<string, string>
}

export const LIGHT: ChartPalette = {
  name: 'light',
  text: '#1f2933',
  textMuted: '#616e7c',
  axisLine: '#cbd2d9',
  splitLine: '#e9edf1',
  tooltipBg: '#ffffff',
  tooltipBorder: '#d9dee4',
  accent: '#2f6fed',
  accentSoft: 'rgba(47, 111, 237, 0.14)',
  secondary: '#12a3a3',
  secondarySoft: 'rgba(18, 163, 163, 0.16)',
  success: '#1f9d55',
  warning: '#d98a04',
  danger: '#d6453d',
  inProgress: 'rgba(97, 110, 124, 0.08)',
  scoreScale: ['#f2c94c', '#f2994a', '#d6453d'],
  series: ['#2f6fed', '#12a3a3', '#8b5cf6', '#d98a04', '#d6453d', '#1f9d55', '#64748b'],
  status: {
    placed: '#94a3b8',
    paid: '#2f6fed',
    shipped: '#12a3a3',
    completed: '#1f9d55',
    cancelled: '#d98a04',
    refunded: '#d6453d'
  }
}

export const DARK: ChartPalette = {
  name: 'dark',
  text: '#e4e8ee',
  textMuted: '#98a2b3',
  axisLine: '#3a4352',
  splitLine: '#262d38',
  tooltipBg: '#1b212b',
  tooltipBorder: '#333c4a',
  accent: '#5b8def',
  accentSoft: 'rgba(91, 141, 239, 0.20)',
  secondary: '#2cc4c4',
  secondarySoft: 'rgba(44, 196, 196, 0.18)',
  success: '#3cc47c',
  warning: '#f0a43a',
  danger: '#f06a62',
  inProgress: 'rgba(152, 162, 179, 0.10)',
  scoreScale: ['#f2d36b', '#f5a25d', '#f06a62'],
  series: ['#5b8def', '#2cc4c4', '#a78bfa', '#f0a43a', '#f06a62', '#3cc47c', '#94a3b8'],
  status: {
    placed: '#7b8799',
    paid: '#5b8def',
    shipped: '#2cc4c4',
    completed: '#3cc47c',
    cancelled: '#f0a43a',
    refunded: '#f06a62'
  }
}

export const paletteFor = (theme: ThemeName): ChartPalette => (theme === 'dark' ? DARK : LIGHT)
