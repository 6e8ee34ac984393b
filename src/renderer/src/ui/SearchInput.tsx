/** A search box over a list; `onChange` gets every keystroke, so the caller decides when to search. */
export function SearchInput({ value, onChange, placeholder, label, testId }: { value: string; onChange(value: string): void; placeholder: string; label: string; testId: string }) {
  return (
    <input
      type="search"
      className="input search"
      placeholder={placeholder}
      aria-label={label}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      data-testid={testId}
    />
  )
}
