// The parsed form of a condition. Every node keeps its span in the source text, so the type
// checker can point at the exact operand it refuses.

export interface Span {
  start: number
  end: number
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='
export type ArithOp = '+' | '-' | '*' | '/' | '%'

export type Expr =
  | ({ kind: 'number'; value: number } & Span)
  | ({ kind: 'string'; value: string } & Span)
  | ({ kind: 'boolean'; value: boolean } & Span)
  | ({ kind: 'attribute'; name: string } & Span)
  | ({ kind: 'not'; operand: Expr } & Span)
  | ({ kind: 'negate'; operand: Expr } & Span)
  | ({ kind: 'logical'; op: 'and' | 'or'; left: Expr; right: Expr } & Span)
  | ({ kind: 'compare'; op: CompareOp; left: Expr; right: Expr } & Span)
  | ({ kind: 'arith'; op: ArithOp; left: Expr; right: Expr } & Span)
  | ({ kind: 'in'; negated: boolean; value: Expr; target: InTarget } & Span)
  | ({ kind: 'isNull'; negated: boolean; operand: Expr } & Span)

/** What `in` tests against: values written out, a named list, or a list-valued attribute (categories). */
export type InTarget =
  | ({ kind: 'tuple'; items: Expr[] } & Span)
  | ({ kind: 'namedList'; name: string } & Span)
  | ({ kind: 'attribute'; name: string } & Span)
