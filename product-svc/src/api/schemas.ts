import { CURRENCY_PATTERN, MAX_PRICE_CENTS, MIN_PRICE_CENTS } from '@shop/kit';
import { Type, type Static } from 'typebox';
import { MAX_STOCK } from '../domain/products.ts';

// The HTTP surface of product-svc. Money is an integer count of minor units with an ISO 4217
// currency code; `stock` is the quantity still available.

export const MAX_NAME_LENGTH = 200;

const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
const Description = Type.String({ maxLength: 5000 });
const PriceCents = Type.Integer({ minimum: MIN_PRICE_CENTS, maximum: MAX_PRICE_CENTS, description: 'Price in minor units (cents)' });
const Currency = Type.String({ pattern: CURRENCY_PATTERN, description: 'ISO 4217 code, e.g. EUR' });
const Stock = Type.Integer({ minimum: 0, maximum: MAX_STOCK });

export const CreateProductBody = Type.Object(
  { name: Name, description: Type.Optional(Description), priceCents: PriceCents, currency: Currency, stock: Stock },
  { additionalProperties: false },
);

export const UpdateProductBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    priceCents: Type.Optional(PriceCents),
    currency: Type.Optional(Currency),
    stock: Type.Optional(Stock),
    stockDelta: Type.Optional(
      Type.Integer({
        minimum: -MAX_STOCK,
        maximum: MAX_STOCK,
        description:
          'Units to add to the stock (negative: to take away), counted from the stock as it is when the change is made, so that no reservation made meanwhile is overwritten, as a `stock` read earlier and sent back would; not with `stock`',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ProductParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** The public listing: filters, an order and a page. Without any, the active products oldest first. */
export const ProductListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Words to find in the name or description: every word must start a word of either (case-insensitive)',
      }),
    ),
    minPriceCents: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, description: 'Lowest price, inclusive' })),
    maxPriceCents: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, description: 'Highest price, inclusive' })),
    inStock: Type.Optional(Type.Boolean({ description: 'true: only products with stock left' })),
    sort: Type.Optional(
      Type.Enum(['price', '-price', 'name'], {
        description: 'price (cheapest first), -price (dearest first) or name; without it, oldest first',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: 'nextCursor of the previous page, with the same sort' }),
    ),
  },
  { additionalProperties: false },
);

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The ETag (version) the change applies to; 412 when the product has moved on' })),
});

export const Product = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  priceCents: Type.Integer(),
  currency: Type.String(),
  stock: Type.Integer(),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Product = Static<typeof Product>;

export const ProductPage = Type.Object({
  items: Type.Array(Product),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
