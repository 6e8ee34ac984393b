import { useEffect, type ReactNode } from 'react'
import { formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import type { ListField } from '../../stores/rule-lists'
import { Card, EmptyState } from '../../ui/Card'

// The named lists rules test membership in (`customer_id in list('blocked')`): every list, and
// one open to edit as text, typed or imported from a file, one value per line.

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: ReactNode }) {
  return (
    <div className="field wide">
      <label htmlFor={id}>{label}</label>
      {children}
      {error && (
        <span className="error" id={`${id}-error`} role="alert" data-testid={`${id}-error`}>
          {error}
        </span>
      )}
    </div>
  )
}

function ListEditor() {
  const { ruleLists, rulesLab } = useStores()
  const draft = useSlice(ruleLists, (s) => s.draft)
  const errors = useSlice(ruleLists, (s) => s.errors)
  const saving = useSlice(ruleLists, (s) => s.saving)
  if (!draft) return null
  const lists = ruleLists.getState()
  const invalid = (f: ListField) => ({ 'aria-invalid': errors[f] !== undefined, 'aria-describedby': errors[f] ? `list-${f}-error` : undefined })
  const save = async () => {
    // the candidate may name this list: its check depends on what the lake holds
    if (await lists.save()) void rulesLab.getState().check()
  }
  return (
    <div className="stack" data-testid="list-editor">
      <Field id="list-name" label="Name" error={errors.name}>
        <input
          id="list-name"
          className="input mono"
          value={draft.name}
          readOnly={!draft.isNew}
          placeholder="blocked"
          onChange={(e) => lists.edit({ name: e.target.value })}
          {...invalid('name')}
        />
      </Field>
      <Field id="list-description" label="Description" error={errors.description}>
        <input id="list-description" className="input" value={draft.description} onChange={(e) => lists.edit({ description: e.target.value })} {...invalid('description')} />
      </Field>
      <Field id="list-values" label="Values, one per line (blank lines and lines starting with # are skipped)" error={errors.values}>
        <textarea
          id="list-values"
          className="input mono"
          rows={10}
          spellCheck={false}
          value={draft.text}
          onChange={(e) => lists.edit({ text: e.target.value })}
          style={{ width: '100%' }}
          {...invalid('values')}
        />
      </Field>
      <div className="input-row">
        <label className="btn small">
          Import a text file…
          <input
            type="file"
            accept=".txt,.csv,.lst,text/plain"
            hidden
            data-testid="list-import"
            onChange={(e) => {
              const file = e.target.files?.[0]
              // the same file picked again must still fire a change
              e.target.value = ''
              if (file) void file.text().then((text) => lists.importText(text))
            }}
          />
        </label>
        <div className="spacer" />
        <button type="button" className="btn small ghost" onClick={() => lists.close()} data-testid="list-close">
          Close
        </button>
        <button type="button" className="btn small primary" disabled={saving} onClick={() => void save()} data-testid="list-save">
          {saving ? 'Saving…' : 'Save list'}
        </button>
      </div>
    </div>
  )
}

export function ListsCard() {
  const { ruleLists } = useStores()
  const lists = useSlice(ruleLists, (s) => s.lists)
  const open = useSlice(ruleLists, (s) => s.draft?.name ?? null)
  const error = useSlice(ruleLists, (s) => s.error)
  const notice = useSlice(ruleLists, (s) => s.notice)

  useEffect(() => {
    void ruleLists.getState().load()
  }, [ruleLists])

  return (
    <Card
      title="Lists"
      hint="values for x in list('name'); a change applies from the next batch"
      testId="rules-lists"
      right={
        <button type="button" className="btn small" onClick={() => ruleLists.getState().create()} data-testid="list-new">
          New list
        </button>
      }
    >
      <div className="stack">
        {lists.length === 0 ? (
          <EmptyState title="No list yet">
            <p>Create one, or import a text file of customer ids, one per line.</p>
          </EmptyState>
        ) : (
          <table className="data">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th className="num">Values</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {lists.map((l) => (
                <tr key={l.name} data-testid="list-row" data-list={l.name}>
                  <td className="mono">{l.name}</td>
                  <td>{l.description}</td>
                  <td className="num" data-testid="list-count">
                    {formatNumber(l.values.length)}
                  </td>
                  <td>
                    <button type="button" className="btn small" disabled={open === l.name} onClick={() => ruleLists.getState().open(l.name)} data-testid="list-open">
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ListEditor />
        {error && (
          <p className="form-error" role="alert" data-testid="lists-error">
            {error}
          </p>
        )}
        {notice && (
          <p className="form-ok" role="status" data-testid="lists-notice">
            {notice}
          </p>
        )}
      </div>
    </Card>
  )
}
