/**
 * The highest price of a product, in minor units (ten million in major units). With at most 50
 * lines of 1,000 units an order's total stays below 5·10¹³: exact in a JavaScript number
 * (2⁵³ ≈ 9·10¹⁵), and within the gateway's largest charge.
 */
export const MAX_PRICE_CENTS = 1_000_000_000;

/**
 * The lowest: the gateway charges at least one minor unit, so an order of free products could
 * not be paid, and would be cancelled PAYMENT_ERROR.
 */
export const MIN_PRICE_CENTS = 1;

/** A currency: its ISO 4217 code, as a JSON Schema pattern. */
export const CURRENCY_PATTERN = '^[A-Z]{3}$';
