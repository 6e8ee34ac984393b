import { faker } from '@faker-js/faker/locale/en'
import { WeightedPicker } from './random'

// Everything that needs faker is built here, ONCE per catalog seed: products, brand and name
// pools, email domains. The event factory only picks from these arrays with its fast PRNG
// (calling faker per event would cap the generator at a few thousand events per second).

export interface Product {
  product_id: string
  product_name: string
  category: string
  /** Unit price in cents (integer), so order totals are exact. */
  priceCents: number
  /** Unit price in currency units (priceCents / 100), as written into order items. */
  price: number
}

export interface Catalog {
  seed: number
  products: readonly Product[]
  categories: readonly string[]
  /** Products per category, in popularity order (index 0 sells best). */
  byCategory: ReadonlyMap<string, readonly Product[]>
  /** All products sorted by price, ascending (for "an item that fits this budget"). */
  byPrice: readonly Product[]
  categoryPicker: WeightedPicker<string>
  firstNames: readonly string[]
  lastNames: readonly string[]
  emailDomains: WeightedPicker<string>
}

interface ProductType {
  noun: string
  /** Price range in currency units. */
  min: number
  max: number
}

interface CategorySpec {
  name: string
  /** Relative share of line items. */
  weight: number
  modifiers: readonly string[]
  types: readonly ProductType[]
}

const t = (noun: string, min: number, max: number): ProductType => ({ noun, min, max })

export const CATEGORY_SPECS: readonly CategorySpec[] = [
  {
    name: 'Electronics',
    weight: 12,
    modifiers: ['Pro', 'Max', 'Mini', 'Wireless', 'Smart', 'Ultra', 'X2', 'Studio', 'Lite', 'Plus'],
    types: [
      t('Headphones', 29, 449),
      t('Bluetooth Speaker', 25, 349),
      t('Smartwatch', 99, 899),
      t('4K TV', 299, 3499),
      t('Mirrorless Camera', 449, 3999),
      t('Drone', 149, 2199),
      t('Earbuds', 19, 279),
      t('Soundbar', 99, 1199),
      t('Projector', 149, 2499)
    ]
  },
  {
    name: 'Computers',
    weight: 7,
    modifiers: ['Pro', 'Air', 'Gaming', 'Slim', 'Creator', 'Business', 'Ultra', '15"', '14"', 'Plus'],
    types: [
      t('Laptop', 449, 3999),
      t('Desktop PC', 499, 4499),
      t('Monitor', 129, 1799),
      t('Mechanical Keyboard', 39, 249),
      t('Wireless Mouse', 12, 149),
      t('Tablet', 199, 1499),
      t('External SSD', 49, 449),
      t('Graphics Card', 249, 2199),
      t('Wi-Fi Router', 49, 599)
    ]
  },
  {
    name: 'Phones & Accessories',
    weight: 9,
    modifiers: ['Pro', 'Max', 'Mini', 'Plus', 'Lite', '5G', 'MagSafe', 'Rugged', 'Slim', 'Fast'],
    types: [
      t('Smartphone', 149, 1799),
      t('Phone Case', 9, 69),
      t('USB-C Charger', 12, 89),
      t('Screen Protector', 7, 39),
      t('Power Bank', 19, 149),
      t('Car Mount', 12, 59)
    ]
  },
  {
    name: 'Home & Kitchen',
    weight: 15,
    modifiers: ['Deluxe', 'Classic', 'Compact', 'Stainless', 'Premium', 'Essential', 'Smart', 'XL', 'Nordic', 'Eco'],
    types: [
      t('Coffee Maker', 29, 999),
      t('Blender', 29, 549),
      t('Cookware Set', 49, 799),
      t('Robot Vacuum', 149, 1299),
      t('Air Fryer', 49, 329),
      t('Knife Set', 29, 499),
      t('Bed Sheet Set', 25, 349),
      t('Table Lamp', 19, 279),
      t('Stand Mixer', 99, 749),
      t('Dinnerware Set', 29, 399)
    ]
  },
  {
    name: 'Fashion',
    weight: 18,
    modifiers: ['Slim Fit', 'Classic', 'Vintage', 'Organic Cotton', 'Oversized', 'Linen', 'Leather', 'Merino', 'Everyday', 'Limited'],
    types: [
      t('T-Shirt', 9, 69),
      t('Jeans', 29, 229),
      t('Sneakers', 39, 279),
      t('Jacket', 49, 699),
      t('Dress', 29, 399),
      t('Handbag', 39, 2999),
      t('Sunglasses', 15, 449),
      t('Hoodie', 25, 149),
      t('Boots', 59, 499)
    ]
  },
  {
    name: 'Beauty',
    weight: 10,
    modifiers: ['Hydrating', 'Matte', 'Radiance', 'Night', 'Vitamin C', 'Sensitive', 'Travel', 'Luxe', 'Daily', 'Pro'],
    types: [
      t('Face Serum', 12, 169),
      t('Eau de Parfum', 29, 449),
      t('Hair Dryer', 29, 549),
      t('Lipstick', 8, 59),
      t('Skincare Set', 25, 329),
      t('Moisturizer', 9, 129)
    ]
  },
  {
    name: 'Sports & Outdoors',
    weight: 9,
    modifiers: ['Trail', 'Pro', 'Carbon', 'Ultralight', 'All-Weather', 'Performance', 'Junior', 'Elite', 'Sport', 'Summit'],
    types: [
      t('Yoga Mat', 15, 139),
      t('Running Shoes', 49, 279),
      t('Camping Tent', 79, 999),
      t('Road Bike', 349, 5999),
      t('E-Bike', 999, 6999),
      t('Dumbbell Set', 29, 649),
      t('Hiking Backpack', 25, 329),
      t('Treadmill', 399, 4499),
      t('Fitness Tracker', 29, 299)
    ]
  },
  {
    name: 'Books & Media',
    weight: 10,
    modifiers: ['Collector\'s Edition', 'Illustrated', 'Deluxe', 'Anniversary', 'Box Set', 'Signed', 'Classic', 'Pocket', 'Revised', 'Special'],
    types: [
      t('Hardcover Novel', 12, 49),
      t('Paperback', 6, 24),
      t('Board Game', 15, 139),
      t('Vinyl Record', 18, 69),
      t('Video Game', 19, 79),
      t('Cookbook', 14, 59)
    ]
  },
  {
    name: 'Toys & Baby',
    weight: 7,
    modifiers: ['Junior', 'Deluxe', 'Classic', 'Creative', 'Mega', 'Travel', 'Eco', 'Safari', 'Rainbow', 'Starter'],
    types: [
      t('Building Set', 15, 549),
      t('Plush Toy', 8, 59),
      t('Stroller', 99, 1399),
      t('Car Seat', 79, 649),
      t('Jigsaw Puzzle', 9, 49),
      t('Ride-On Car', 79, 599)
    ]
  },
  {
    name: 'Jewelry & Watches',
    weight: 3,
    modifiers: ['14K Gold', 'Sterling Silver', 'Platinum', 'Rose Gold', 'Diamond', 'Heritage', 'Automatic', 'Pearl', 'Sapphire', 'Titanium'],
    types: [
      t('Necklace', 29, 3499),
      t('Ring', 39, 7999),
      t('Luxury Watch', 299, 14999),
      t('Earrings', 19, 2499),
      t('Bracelet', 25, 2999)
    ]
  }
]

const PRODUCTS_PER_CATEGORY = 300
const BRANDS = 160
const FIRST_NAMES = 700
const LAST_NAMES = 700

/** Seed the catalog uses when a run has no seed, so unseeded runs share one stable catalog. */
export const DEFAULT_CATALOG_SEED = 20_261_124

const COMMON_EMAIL_DOMAINS: Record<string, number> = {
  'gmail.com': 34,
  'yahoo.com': 9,
  'outlook.com': 9,
  'hotmail.com': 6,
  'icloud.com': 8,
  'proton.me': 2,
  'aol.com': 1,
  'gmx.de': 2,
  'web.de': 1,
  'orange.fr': 1
}

const cache = new Map<number, Catalog>()

/** Builds (or returns the cached) catalog for a seed. Deterministic for a given seed. */
export function buildCatalog(seed: number): Catalog {
  const cached = cache.get(seed)
  if (cached) return cached
  const catalog = createCatalog(seed)
  cache.set(seed, catalog)
  return catalog
}

function unique(make: () => string, count: number, maxTries = count * 20): string[] {
  const seen = new Set<string>()
  for (let i = 0; i < maxTries && seen.size < count; i++) seen.add(make())
  return [...seen]
}

function roundPrice(raw: number, min: number, ending: number): number {
  // Retail-looking prices: 24.99, 129.00, 1,499.95 ...
  const whole = Math.max(Math.floor(raw), Math.floor(min))
  const cents = [99, 99, 99, 95, 49, 0][ending]
  return whole * 100 + cents
}

function createCatalog(seed: number): Catalog {
  faker.seed(seed)

  const brands = unique(() => {
    const base = faker.person.lastName().replace(/[^A-Za-z' -]/g, '')
    return faker.helpers.weightedArrayElement([
      { weight: 6, value: base },
      { weight: 1, value: `${base} & Co` },
      { weight: 1, value: `${base} Labs` },
      { weight: 1, value: `${base} & Sons` },
      { weight: 1, value: `${base} Studio` }
    ])
  }, BRANDS)

  const products: Product[] = []
  const byCategory = new Map<string, Product[]>()
  let next = 1
  for (const spec of CATEGORY_SPECS) {
    const list: Product[] = []
    const names = new Set<string>()
    for (let i = 0; i < PRODUCTS_PER_CATEGORY; i++) {
      const type = faker.helpers.arrayElement(spec.types)
      let name = ''
      for (let tries = 0; tries < 10 && (name === '' || names.has(name)); tries++) {
        const brand = faker.helpers.arrayElement(brands)
        const modifier = faker.helpers.arrayElement(spec.modifiers)
        const color = faker.datatype.boolean(0.35) ? ` - ${faker.color.human().replace(/^./, (c) => c.toUpperCase())}` : ''
        name = `${brand} ${modifier} ${type.noun}${color}`
      }
      if (names.has(name)) name = `${name} ${faker.string.alphanumeric({ length: 3, casing: 'upper' })}`
      names.add(name)
      // Log-uniform inside the type's range: many affordable items, a long tail of pricey ones.
      const raw = Math.exp(faker.number.float({ min: Math.log(type.min), max: Math.log(type.max) }))
      const priceCents = roundPrice(raw, type.min, faker.number.int({ min: 0, max: 5 }))
      const product: Product = {
        product_id: `P${String(next++).padStart(6, '0')}`,
        product_name: name,
        category: spec.name,
        priceCents,
        price: priceCents / 100
      }
      list.push(product)
      products.push(product)
    }
    byCategory.set(spec.name, list)
  }

  const firstNames = unique(() => faker.person.firstName(), FIRST_NAMES)
  const lastNames = unique(() => faker.person.lastName(), LAST_NAMES)

  const domains: Record<string, number> = { ...COMMON_EMAIL_DOMAINS }
  for (const d of unique(() => faker.internet.domainName(), 60)) domains[d] = domains[d] ?? 0.4

  return {
    seed,
    products,
    categories: CATEGORY_SPECS.map((c) => c.name),
    byCategory,
    byPrice: [...products].sort((a, b) => a.priceCents - b.priceCents || a.product_id.localeCompare(b.product_id)),
    categoryPicker: new WeightedPicker(
      CATEGORY_SPECS.map((c) => c.name),
      CATEGORY_SPECS.map((c) => c.weight)
    ),
    firstNames,
    lastNames,
    emailDomains: WeightedPicker.of(domains)
  }
}
