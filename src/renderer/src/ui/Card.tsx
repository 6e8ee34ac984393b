import type { ReactNode } from 'react'

export function Card({
  title,
  hint,
  right,
  children,
  flush,
  className,
  testId
}: {
  title?: ReactNode
  hint?: ReactNode
  right?: ReactNode
  children: ReactNode
  flush?: boolean
  className?: string
  testId?: string
}) {
  return (
    <section className={`card${className ? ` ${className}` : ''}`} data-testid={testId}>
      {title !== undefined && (
        <header className="card-header">
          <h2>{title}</h2>
          {hint && <span className="hint">{hint}</span>}
          {right && <div className="right">{right}</div>}
        </header>
      )}
      <div className={`card-body${flush ? ' flush' : ''}`}>{children}</div>
    </section>
  )
}

export function Stat({
  label,
  value,
  tone,
  testId,
  definition
}: {
  label: string
  value: ReactNode
  tone?: 'warn' | 'bad'
  testId?: string
  /** What the figure counts, in the lake's terms, shown under it. */
  definition?: string
}) {
  return (
    <div className={`card stat${tone ? ` ${tone}` : ''}`}>
      <div className="label">{label}</div>
      <div className="value" data-testid={testId}>
        {value}
      </div>
      {definition && (
        <div className="definition" data-testid={testId ? `${testId}-definition` : undefined}>
          {definition}
        </div>
      )}
    </div>
  )
}

export function EmptyState({
  title,
  children,
  busy,
  big,
  testId
}: {
  title: string
  children?: ReactNode
  busy?: boolean
  big?: boolean
  testId?: string
}) {
  return (
    <div className={`empty${big ? ' big' : ''}`} data-testid={testId}>
      {busy && <div className="spinner" aria-hidden="true" />}
      <h3>{title}</h3>
      {children}
    </div>
  )
}

/** A fraud score, red from the alert threshold on: the colours of the score histogram beside it. */
export function ScoreBadge({ score, threshold }: { score: number; threshold: number }) {
  const alert = score >= threshold
  return (
    <span className={`score ${alert ? 'high' : 'low'}`} title={`fraud score ${score}; an alert from ${threshold}`}>
      {String(Math.round(score))}
    </span>
  )
}
