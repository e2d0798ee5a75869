import { describe, expect, it } from 'vitest';
import { orderLines } from './inventory.ts';

const a = '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705';
const b = '7148e701-d923-436f-8298-82927073705d';

describe("an order's lines as stock moves", () => {
  it('sums a product named twice, so its stock is checked against the whole quantity', () => {
    expect(
      orderLines([
        { productId: a, quantity: 6 },
        { productId: a, quantity: 6 },
      ]),
    ).toEqual([{ productId: a, quantity: 12 }]);
  });

  it('reads an id in capitals as the product PostgreSQL names in lower case', () => {
    expect(
      orderLines([
        { productId: a.toUpperCase(), quantity: 1 },
        { productId: a, quantity: 2 },
      ]),
    ).toEqual([{ productId: a, quantity: 3 }]);
  });

  it('sorts the products by id, the order in which they are locked', () => {
    expect(
      orderLines([
        { productId: b, quantity: 1 },
        { productId: a, quantity: 2 },
      ]).map((line) => line.productId),
    ).toEqual([a, b]);
  });
});
