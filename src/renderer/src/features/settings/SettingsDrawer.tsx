import { useEffect, type ChangeEvent } from 'react'
import { useSlice, useStores } from '../../stores/context'
import { appliesOnRestart, fieldDef, FIELDS, overrideNote, SETTINGS_GROUPS, type FieldDef } from '../../stores/settings-form'
import { CloseIcon } from '../../ui/icons'

// Paths, ids and addresses are not words: no spelling marks, no autofill.
const typed = { spellCheck: false, autoComplete: 'off' } as const

function Field({ def }: { def: FieldDef }) {
  const { settings } = useStores()
  const value = useSlice(settings, (s) => s.form[def.path])
  const form = useSlice(settings, (s) => s.form)
  const clientError = useSlice(settings, (s) => s.clientErrors[def.path])
  const serverError = useSlice(settings, (s) => s.serverErrors[def.path])
  const override = useSlice(settings, (s) => s.overrides[def.path])
  const error = clientError ?? serverError
  const enabled = def.enabledWhen ? def.enabledWhen(form) : true
  const id = `f-${def.path.replace(/\./g, '-')}`
  const describedBy = error ? `${id}-error` : def.hint ? `${id}-hint` : undefined
  const set = (v: string | boolean) => settings.getState().setField(def.path, v)
  const testId = `setting-${def.path}`
  const wide = def.kind === 'text' || def.kind === 'optional-text' || def.kind === 'list' || def.kind === 'bool' || def.kind === 'rates' || def.kind === 'sinks'

  // What every control holding a text value carries: the field's id, value, state and error links.
  const valueControl = {
    id,
    value: typeof value === 'string' ? value : '',
    disabled: !enabled,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => set(e.target.value),
    'data-testid': testId,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy
  }

  let control
  if (def.kind === 'bool') {
    control = (
      <label className="toggle">
        <input
          id={id}
          type="checkbox"
          checked={value === true}
          disabled={!enabled}
          onChange={(e) => set(e.target.checked)}
          data-testid={testId}
          aria-describedby={describedBy}
        />
        {def.hint}
      </label>
    )
  } else if (def.kind === 'select') {
    control = (
      <select className="input" {...valueControl}>
        {def.options?.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    )
  } else if (def.kind === 'sinks') {
    control = (
      <textarea className="input" rows={3} {...typed} {...valueControl} />
    )
  } else {
    const numeric = def.kind === 'number' || def.kind === 'int' || def.kind === 'optional-int'
    control = (
      <div className="input-row">
        <input
          className="input"
          type={def.kind === 'secret' ? 'password' : 'text'}
          placeholder={def.kind === 'secret' ? 'not set' : undefined}
          inputMode={numeric ? 'decimal' : undefined}
          {...typed}
          {...valueControl}
          style={numeric ? { textAlign: 'right', fontVariantNumeric: 'tabular-nums' } : undefined}
        />
      </div>
    )
  }

  return (
    <div className={`field${wide ? ' wide' : ''}`}>
      {def.kind === 'bool' ? (
        <span className="label">
          {def.label}
          {appliesOnRestart(def.path) && <span className="restart">applies on restart</span>}
        </span>
      ) : (
        <label htmlFor={id}>
          {def.label}
          {def.unit && <span className="unit-label">{def.unit}</span>}
          {appliesOnRestart(def.path) && (
            <span className="restart" data-testid={`restart-${def.path}`}>
              applies on restart
            </span>
          )}
        </label>
      )}
      {control}
      {override && (
        <span className="hint override" data-testid={`setting-override-${def.path}`}>
          {overrideNote(def, override.saved)}
        </span>
      )}
      {error ? (
        <span className="error" id={`${id}-error`} role="alert" data-testid={`setting-error-${def.path}`}>
          {error}
        </span>
      ) : (
        def.hint &&
        def.kind !== 'bool' && (
          <span className="hint" id={`${id}-hint`}>
            {def.hint}
          </span>
        )
      )}
    </div>
  )
}

export function SettingsDrawer({ onClose }: { onClose(): void }) {
  const { settings, pipeline } = useStores()
  const loaded = useSlice(settings, (s) => s.settings !== null)
  const loadError = useSlice(settings, (s) => s.loadError)
  const saving = useSlice(settings, (s) => s.saving)
  const dirty = useSlice(settings, (s) => s.dirty)
  const generalError = useSlice(settings, (s) => s.generalError)
  const clientErrorCount = useSlice(settings, (s) => Object.keys(s.clientErrors).length)
  const formError = useSlice(settings, (s) => s.clientErrors[''])
  const lastSave = useSlice(settings, (s) => s.lastSave)
  const running = useSlice(pipeline, (s) => s.status?.state === 'running' || s.status?.state === 'starting')

  useEffect(() => {
    void settings.getState().load()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [settings, onClose])

  const restartLabels = (lastSave?.restartRequired ?? []).map((p) => fieldDef(p)?.label ?? p)
  const justSaved = lastSave !== null && !dirty

  return (
    <>
      <div className="overlay" onClick={onClose} />
      <aside className="drawer" role="dialog" aria-modal="true" aria-labelledby="settings-title" data-testid="settings-drawer">
        <div className="drawer-header">
          <h2 id="settings-title">Settings</h2>
          <button type="button" className="btn ghost" onClick={onClose} aria-label="Close settings" data-testid="settings-close">
            <CloseIcon />
          </button>
        </div>
        <form
          className="drawer-body"
          noValidate
          onSubmit={(e) => {
            e.preventDefault()
            void settings.getState().save()
          }}
          id="settings-form"
        >
          {!loaded ? (
            <p className="muted">{loadError ? `Could not load settings: ${loadError}` : 'Loading…'}</p>
          ) : (
            SETTINGS_GROUPS.map((group) => (
              <fieldset className="group" key={group} data-testid={`settings-group-${group}`}>
                <legend>{group}</legend>
                <div className="fields">
                  {FIELDS.filter((f) => f.group === group).map((f) => (
                    <Field key={f.path} def={f} />
                  ))}
                </div>
              </fieldset>
            ))
          )}
        </form>
        {(generalError || formError || justSaved) && (
          <div className="drawer-status">
            {(generalError || formError) && (
              <div className="form-error" role="alert" data-testid="settings-error">
                {generalError ?? formError}
              </div>
            )}
            {justSaved && (
              <div className="form-ok" role="status" data-testid="settings-saved">
                Saved.
                {restartLabels.length > 0 &&
                  (running
                    ? ` Restart the pipeline (Stop, then Start) to apply: ${restartLabels.join(', ')}.`
                    : ` ${restartLabels.join(', ')} will apply when the pipeline starts.`)}
              </div>
            )}
          </div>
        )}
        <div className="drawer-footer">
          <span className="note">
            {clientErrorCount > 0
              ? `${clientErrorCount} field${clientErrorCount === 1 ? '' : 's'} to fix`
              : dirty
                ? 'Unsaved changes'
                : 'Changes apply when saved'}
          </span>
          <button type="button" className="btn" disabled={!dirty || saving} onClick={() => settings.getState().reset()} data-testid="settings-reset">
            Discard
          </button>
          <button
            type="submit"
            form="settings-form"
            className="btn primary"
            disabled={!loaded || saving || !dirty || clientErrorCount > 0}
            data-testid="settings-save"
          >
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </aside>
    </>
  )
}
