import { useEffect, useRef } from 'react'
import type { ExportFormat } from '../../../../shared/dto'
import { desktopBridge } from '../../client'
import { formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { FolderInput } from '../../ui/FolderInput'
import { Dialog } from '../../ui/Dialog'

const FORMATS: { value: ExportFormat; label: string; hint: string }[] = [
  { value: 'parquet', label: 'Parquet', hint: 'One .parquet file per table; for Spark, pandas, DuckDB' },
  { value: 'csv', label: 'CSV', hint: 'One .csv file per table; for spreadsheets' },
  { value: 'duckdb', label: 'DuckDB file', hint: 'A single .duckdb database with every table' }
]

export function ExportDialog({ onClose }: { onClose(): void }) {
  const { exporter } = useStores()
  const ex = useSlice(exporter, (s) => s)
  const { showInFolder } = desktopBridge()

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return
      const st = exporter.getState()
      // Escape answers the confirmation first ("no"), and only then closes the dialog
      if (st.confirm) st.cancelOverwrite()
      else if (!st.running) onClose()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [exporter, onClose])

  // The confirmation interrupts: focus goes to its safe answer so a stray Enter replaces nothing.
  const cancelRef = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (ex.confirm) cancelRef.current?.focus()
  }, [ex.confirm])

  const pct = ex.progress && ex.progress.total > 0 ? Math.round((ex.progress.done / ex.progress.total) * 100) : null
  const format = FORMATS.find((f) => f.value === ex.format)

  return (
    <Dialog id="export" title="Export the lake" busy={ex.running} onClose={onClose} onSubmit={() => void ex.run()}>
      <div className="field">
        <span className="label">Format</span>
        <div className="segmented" role="group" aria-label="Format">
          {FORMATS.map((f) => (
            <button
              key={f.value}
              type="button"
              aria-pressed={ex.format === f.value}
              disabled={ex.running}
              onClick={() => ex.setFormat(f.value)}
              data-testid={`export-format-${f.value}`}
            >
              {f.label}
            </button>
          ))}
        </div>
        <span className="hint">{format?.hint}</span>
      </div>
      <div className="field">
        <label htmlFor="export-dir">Folder</label>
        <FolderInput
          id="export-dir"
          value={ex.outDir}
          placeholder="exports"
          onChange={ex.setOutDir}
          onPicked={ex.setOutDir}
          disabled={ex.running}
          invalid={Boolean(ex.fieldError)}
          testId="export-dir"
          browseTestId="export-browse"
        />
        {ex.fieldError ? (
          <span className="error" data-testid="export-dir-error">
            {ex.fieldError}
          </span>
        ) : (
          <span className="hint">
            A new or empty folder; relative folders are created next to the lake. Files StreamDesk did not write are never replaced.
          </span>
        )}
      </div>

      {ex.running && (
        <div data-testid="export-progress">
          <div className="progress" aria-label="Export progress">
            <div style={{ width: `${pct ?? 5}%` }} />
          </div>
          <p className="muted" style={{ margin: '6px 0 0', fontSize: 12 }}>
            {ex.progress ? `Writing ${ex.progress.table} (${ex.progress.done} of ${ex.progress.total})…` : 'Preparing…'}
          </p>
        </div>
      )}

      {ex.error && (
        <div className="form-error" role="alert" data-testid="export-error">
          {ex.error}
        </div>
      )}

      {ex.confirm && (
        <div
          className="form-warning"
          role="alertdialog"
          aria-labelledby="export-confirm-title"
          aria-describedby="export-confirm-body"
          data-testid="export-confirm"
        >
          <p id="export-confirm-title" className="confirm-title">
            This folder is not empty
          </p>
          <div id="export-confirm-body">
            <p className="path">{ex.confirm.outDir}</p>
            {ex.confirm.replaces.length > 0 ? (
              <>
                <p>Exporting replaces the earlier StreamDesk export in it:</p>
                <ul className="result-list" data-testid="export-confirm-replaces">
                  {ex.confirm.replaces.map((f) => (
                    <li key={f} className="mono">
                      {f}
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <p>Nothing in it is replaced; the export is written next to what is there.</p>
            )}
            {ex.confirm.others.length > 0 && (
              <p data-testid="export-confirm-others">
                {ex.confirm.others.length === 1 ? '1 other item stays' : `${formatNumber(ex.confirm.others.length)} other items stay`} as{' '}
                {ex.confirm.others.length === 1 ? 'it is' : 'they are'}: {ex.confirm.others.slice(0, 5).join(', ')}
                {ex.confirm.others.length > 5 ? ', …' : ''}
              </p>
            )}
          </div>
          <div className="input-row" style={{ justifyContent: 'flex-end' }}>
            <button type="button" className="btn" ref={cancelRef} onClick={() => ex.cancelOverwrite()} data-testid="export-confirm-cancel">
              Cancel
            </button>
            <button type="button" className="btn primary" onClick={() => void ex.run(true)} data-testid="export-confirm-overwrite">
              {ex.confirm.replaces.length > 0 ? 'Replace and export' : 'Export here'}
            </button>
          </div>
        </div>
      )}

      {ex.result && (
        <div data-testid="export-result">
          <div className="form-ok" style={{ marginTop: 0 }}>
            Exported {ex.result.tables.length} tables as {FORMATS.find((f) => f.value === ex.result!.format)?.label}.
            {ex.result.replaced.length > 0 &&
              ` Replaced ${ex.result.replaced.length} ${ex.result.replaced.length === 1 ? 'file' : 'files'} of the earlier export.`}
          </div>
          <p style={{ margin: '12px 0 4px' }} className="path" data-testid="export-result-path">
            {ex.result.outDir}
          </p>
          <ul className="result-list">
            {ex.result.tables.map((t) => (
              <li key={t.name} data-testid="export-result-table">
                <span className="mono" title={t.file}>
                  {t.name}
                </span>
                <span className="num">{formatNumber(t.rows)} rows</span>
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="input-row" style={{ justifyContent: 'flex-end' }}>
        {ex.result && showInFolder && (
          <button type="button" className="btn" onClick={() => void showInFolder(ex.result!.manifestPath || ex.result!.outDir)} data-testid="export-show">
            Show in folder
          </button>
        )}
        <button type="submit" className="btn primary" disabled={ex.running || ex.confirm !== null} data-testid="export-run">
          {ex.running ? 'Exporting…' : ex.result ? 'Export again' : 'Export'}
        </button>
      </div>
    </Dialog>
  )
}
