import type { Channel, OrderStatus } from '../../shared/events'
import { WeightedPicker } from './random'

// Static distributions (no faker needed): countries, currencies, payment methods, channels,
// statuses. Weights are relative shares.

/** Customer / shipping countries (ISO 3166-1 alpha-2). */
export const COUNTRY_WEIGHTS: Readonly<Record<string, number>> = {
  US: 40,
  GB: 9,
  DE: 8,
  FR: 6,
  CA: 6,
  AU: 4,
  NL: 3,
  ES: 3,
  IT: 3,
  BR: 3,
  JP: 3,
  IN: 3,
  SE: 2,
  PL: 2,
  MX: 2,
  IE: 1,
  BE: 1,
  AT: 1,
  CH: 1,
  DK: 1,
  NO: 1,
  NZ: 1,
  SG: 1,
  KR: 1
}

/** Billing countries seen on stolen-card orders, besides the regular customer countries. */
export const EXTRA_BILLING_COUNTRIES = ['RO', 'UA', 'NG', 'VN', 'ID', 'PH', 'TR', 'AR', 'ZA', 'MY'] as const

export const LOCAL_CURRENCY: Readonly<Record<string, string>> = {
  GB: 'GBP',
  CA: 'CAD',
  AU: 'AUD',
  DE: 'EUR',
  FR: 'EUR',
  NL: 'EUR',
  ES: 'EUR',
  IT: 'EUR',
  IE: 'EUR',
  BE: 'EUR',
  AT: 'EUR'
}

/** Share of orders shipped to a country with a LOCAL_CURRENCY that are charged in it (else USD). */
export const LOCAL_CURRENCY_SHARE = 0.3

export const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD'] as const

export const PAYMENT_METHODS = [
  'credit_card',
  'debit_card',
  'paypal',
  'apple_pay',
  'google_pay',
  'bank_transfer',
  'gift_card',
  'klarna'
] as const

export const countryPicker = WeightedPicker.of(COUNTRY_WEIGHTS)

export const billingCountries: readonly string[] = [...Object.keys(COUNTRY_WEIGHTS), ...EXTRA_BILLING_COUNTRIES]

export const paymentPicker = WeightedPicker.of<(typeof PAYMENT_METHODS)[number]>({
  credit_card: 46,
  debit_card: 10,
  paypal: 18,
  apple_pay: 10,
  google_pay: 6,
  bank_transfer: 4,
  gift_card: 2,
  klarna: 4
})

/** Stolen-card orders lean on cards and gift cards. */
export const fraudPaymentPicker = WeightedPicker.of<(typeof PAYMENT_METHODS)[number]>({
  credit_card: 70,
  debit_card: 0,
  paypal: 8,
  apple_pay: 5,
  google_pay: 2,
  bank_transfer: 0,
  gift_card: 15,
  klarna: 0
})

export const channelPicker = WeightedPicker.of<Channel>({ web: 55, mobile: 35, marketplace: 10 })
export const fraudChannelPicker = WeightedPicker.of<Channel>({ web: 75, mobile: 20, marketplace: 5 })

/** ~5% cancelled, ~3% refunded; the rest placed/paid/shipped/completed. */
export const STATUS_WEIGHTS: Readonly<Record<OrderStatus, number>> = {
  placed: 28,
  paid: 26,
  shipped: 20,
  completed: 18,
  cancelled: 5,
  refunded: 3
}
export const statusPicker = WeightedPicker.of(STATUS_WEIGHTS)
/** Statuses that do not add to an order's fraud score. */
export const cleanStatusPicker = WeightedPicker.of<OrderStatus>({
  placed: 28,
  paid: 26,
  shipped: 20,
  completed: 18,
  cancelled: 0,
  refunded: 0
})

/** Line items per order: mostly 1-2. */
export const itemCountPicker = new WeightedPicker([1, 2, 3, 4, 5], [44, 26, 15, 10, 5])
/** Quantity per line item. */
export const quantityPicker = new WeightedPicker([1, 2, 3, 4, 5], [78, 14, 5, 2, 1])
