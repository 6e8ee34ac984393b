import { useEffect, useRef, useState } from 'react'
import { init, use, type ECharts } from 'echarts/core'
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts'
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
  VisualMapContinuousComponent
} from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'
import type { ChartOption } from './options'
import type { ThemeName } from './palette'

use([
  BarChart,
  LineChart,
  PieChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
  DataZoomComponent,
  MarkAreaComponent,
  MarkLineComponent,
  CanvasRenderer
])

const REDUCED_MOTION = '(prefers-reduced-motion: reduce)'

/** Whether the person asked for less motion: charts then change without animating. */
function useReducedMotion(): boolean {
  const [reduce, setReduce] = useState(() => window.matchMedia?.(REDUCED_MOTION).matches ?? false)
  useEffect(() => {
    const mq = window.matchMedia?.(REDUCED_MOTION)
    if (!mq) return
    const on = (e: MediaQueryListEvent) => setReduce(e.matches)
    mq.addEventListener('change', on)
    return () => mq.removeEventListener('change', on)
  }, [])
  return reduce
}

export interface ChartProps {
  option: ChartOption
  /** Re-creates the instance on change so canvases pick up the theme's colours cleanly. */
  theme: ThemeName
  height?: number
  ariaLabel: string
  testId?: string
}

/** Owns one ECharts instance: init, option updates, resize with its box, dispose. */
export function Chart({ option, theme, height = 240, ariaLabel, testId }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null)
  const chart = useRef<ECharts | null>(null)
  const reduceMotion = useReducedMotion()
  const latest = useRef(option)
  latest.current = reduceMotion ? { ...option, animation: false } : option

  useEffect(() => {
    const el = ref.current
    if (!el) return
    const instance = init(el, null, { renderer: 'canvas' })
    chart.current = instance
    instance.setOption(latest.current, { notMerge: true })
    let frame = 0
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(() => {
        if (!instance.isDisposed()) instance.resize()
      })
    })
    observer.observe(el)
    return () => {
      cancelAnimationFrame(frame)
      observer.disconnect()
      instance.dispose()
      chart.current = null
    }
  }, [theme])

  useEffect(() => {
    const instance = chart.current
    if (!instance || instance.isDisposed()) return
    // Series keep their ids, so a merge animates the change instead of redrawing from scratch.
    instance.setOption(latest.current, { lazyUpdate: true, replaceMerge: ['series'] })
  }, [option, reduceMotion])

  return <div ref={ref} className="chart" style={{ height }} role="img" aria-label={ariaLabel} data-testid={testId} />
}
