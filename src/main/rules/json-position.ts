// Where JSON text stops being JSON. Node's JSON.parse names the offset on some versions only
// ("at position 42"); a rules file written by hand deserves its line and column on every one.

/** Offset of the first character that makes `text` invalid JSON; null if it is valid. */
export function jsonErrorOffset(text: string): number | null {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) throw i
      i++
    }
  }
  const string = () => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) throw i
      const c = text.charCodeAt(i)
      if (c === 0x22) return void i++
      if (c < 0x20) throw i
      if (c === 0x5c) {
        i++
        const e = text[i]
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) throw i + k
          i += 5
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++
        else throw i
      } else i++
    }
  }
  const digit = () => text[i] >= '0' && text[i] <= '9'
  const digits = () => {
    if (!digit()) throw i
    while (digit()) i++
  }
  const number = () => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else digits()
    if (text[i] === '.') {
      i++
      digits()
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      digits()
    }
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        if (text[i] !== '"') throw i
        string()
        ws()
        if (text[i] !== ':') throw i
        i++
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') return void i++
        else throw i
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') return void i++
        else throw i
      }
    }
    if (c === '"') return string()
    if (c === 't') return literal('true')
    if (c === 'f') return literal('false')
    if (c === 'n') return literal('null')
    if (c === '-' || (c >= '0' && c <= '9')) return number()
    throw i
  }
  try {
    value()
    ws()
    return i < text.length ? i : null
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length)
    throw at
  }
}
