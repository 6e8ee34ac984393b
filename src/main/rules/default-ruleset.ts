import { fraudSettingsSchema, type FraudSettings } from '../../shared/settings'
import { VELOCITY_WINDOW_MINUTES } from './attributes'
import type { Ruleset } from './ruleset'

// The seven rules the pipeline scored with before rulesets (fixed SQL over the fraud settings),
// as a ruleset with the same points for the same orders: version 1 of every lake. The amount
// tiers are exclusive (an order over 5,000 gets only the 5,000 rule's points), and the amounts
// and hours are rounded as that SQL rounded them (cents, microseconds). Lakes it wrote are kept
// as fixtures (tests/fixtures/lake-v4*.duckdb.gz) to hold version 1 to it.

export class DefaultRulesetError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DefaultRulesetError'
  }
}

/** The ruleset that scores like the settings' fraud rules; the defaults unless given. */
export function defaultRuleset(fraud: FraudSettings = fraudSettingsSchema.parse({})): Ruleset {
  if (fraud.velocityWindowMinutes !== VELOCITY_WINDOW_MINUTES) {
    throw new DefaultRulesetError(
      `the velocity rule counts orders in ${fraud.velocityWindowMinutes} minutes, but orders_last_10m counts ${VELOCITY_WINDOW_MINUTES}: ` +
        `set fraud.velocityWindowMinutes to ${VELOCITY_WINDOW_MINUTES} first`
    )
  }
  const w = fraud.weights
  const newAccountAmount = Math.round(fraud.newAccountAmount * 100) / 100
  // whole microseconds, as the pipeline compares them; the quotient is the DOUBLE DuckDB gets
  const newAccountHours = Math.round(fraud.newAccountHours * 3600e6) / 3600e6
  return {
    threshold: fraud.threshold,
    rules: [
      { id: 'amount_over_5000', description: 'Order over 5,000 in the reporting currency', when: 'amount > 5000', points: w.amountOver5000 },
      { id: 'amount_over_3000', description: 'Order over 3,000 up to 5,000', when: 'amount > 3000 and amount <= 5000', points: w.amountOver3000 },
      { id: 'amount_over_2000', description: 'Order over 2,000 up to 3,000', when: 'amount > 2000 and amount <= 3000', points: w.amountOver2000 },
      { id: 'cancelled_or_refunded', description: 'Order cancelled or refunded', when: "status in ('cancelled', 'refunded')", points: w.cancelledOrRefunded },
      {
        id: 'velocity',
        description: `At least the ${ordinal(fraud.velocityMinOrders)} order of the customer within ${VELOCITY_WINDOW_MINUTES} minutes`,
        when: `orders_last_10m >= ${fraud.velocityMinOrders}`,
        points: w.velocity
      },
      {
        id: 'new_account_large_order',
        description: `Account younger than ${fraud.newAccountHours} h placing an order over ${newAccountAmount.toLocaleString('en-US')}`,
        when: `account_age_hours < ${literal(newAccountHours)} and amount > ${literal(newAccountAmount)}`,
        points: w.newAccountLargeOrder
      },
      { id: 'country_mismatch', description: 'Billing country differs from shipping country', when: 'billing_country != shipping_country', points: w.countryMismatch }
    ]
  }
}

/** A number as the condition language writes it: no exponent, no grouping. */
const literal = (v: number): string => v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 })

function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th'
  return `${n}${suffix}`
}
