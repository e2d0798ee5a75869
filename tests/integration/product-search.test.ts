// The public product search (GET /products with q, a price range, inStock and a sort) against
// the running product-svc: what each filter finds, each order, keyset paging that gives every
// match once even while products are added, and 400 problem+json for every bad request.
// Products are found by words made up per run, so the catalog's other products never match.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, call, expectProblem } from '../harness/http.ts';
import { stackEndpoints } from '../harness/stack.ts';

const products = `${stackEndpoints().productService}/products`;
let admin: string;

interface Product {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  active: boolean;
}
interface Page {
  items: Product[];
  nextCursor: string | null;
}

/** A word no other product has: letters only, so it is one word to the search too. */
const uniqueWord = () => `zq${[...randomBytes(8)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;

async function create(product: { name: string; description?: string; priceCents: number; stock?: number }): Promise<Product> {
  const response = await call<Product>('POST', products, {
    token: admin,
    body: { description: '', stock: 1, currency: 'EUR', ...product },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function search(query: Record<string, string | number | boolean>): Promise<Page> {
  const parameters = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]));
  const response = await call<Page>('GET', `${products}?${parameters.toString()}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Every page of a listing, following nextCursor; the ids in the order served. */
async function allPages(
  query: Record<string, string | number | boolean>,
  betweenPages?: (page: number) => Promise<void>,
): Promise<Product[]> {
  const seen: Product[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const body: Page = await search(cursor === null ? query : { ...query, cursor });
    expect(body.items.length).toBeLessThanOrEqual(Number(query['limit'] ?? 20));
    seen.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === null) return seen;
    await betweenPages?.(page);
  }
  throw new Error('more than 100 pages');
}

const ids = (items: Product[]) => items.map((product) => product.id);
/** The listing's tie-break: ids compare as PostgreSQL compares uuids (their hex digits in order). */
const byId = (a: Product, b: Product) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const orders = {
  price: (a: Product, b: Product) => a.priceCents - b.priceCents || byId(a, b),
  '-price': (a: Product, b: Product) => b.priceCents - a.priceCents || byId(b, a),
  // Plain code-point order of the names used here, which every collation agrees on.
  name: (a: Product, b: Product) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || byId(a, b),
};

beforeAll(async () => {
  admin = await adminToken();
});

describe('finding products', () => {
  const word = uniqueWord();
  const describedWord = uniqueWord();
  const catalog: Record<'mug' | 'soldOut' | 'lamp' | 'tray' | 'retired' | 'creme', Product> = {} as never;

  beforeAll(async () => {
    catalog.mug = await create({ name: `${word} Alpha mug`, priceCents: 500, stock: 3 });
    catalog.soldOut = await create({ name: `Beta ${word}`, priceCents: 1500, stock: 0 });
    catalog.lamp = await create({
      name: 'Gamma lamp',
      description: `A lamp; ${describedWord}, with ${word} inside`,
      priceCents: 2500,
      stock: 7,
    });
    catalog.tray = await create({ name: `${word} Delta tray`, priceCents: 1500, stock: 2 });
    catalog.retired = await create({ name: `${word} Epsilon`, priceCents: 100, stock: 9 });
    expect((await call('DELETE', `${products}/${catalog.retired.id}`, { token: admin })).status).toBe(204);
    catalog.creme = await create({ name: `Crème brûlée ${describedWord}`, priceCents: 900, stock: 4 });
  });

  it('finds a word in the name or in the description, active products only, oldest first without a sort', async () => {
    expect(ids((await search({ q: word })).items)).toEqual(ids([catalog.mug, catalog.soldOut, catalog.lamp, catalog.tray]));
    expect(ids((await search({ q: describedWord })).items)).toEqual(ids([catalog.lamp, catalog.creme]));
  });

  it('matches word prefixes, any case, and every word of the query', async () => {
    expect(ids((await search({ q: word.slice(0, -3) })).items)).toEqual(ids([catalog.mug, catalog.soldOut, catalog.lamp, catalog.tray]));
    expect(ids((await search({ q: word.toUpperCase() })).items)).toHaveLength(4);
    expect(ids((await search({ q: `${word} alp` })).items)).toEqual([catalog.mug.id]);
    expect(ids((await search({ q: `  ${word}, "delta" -tray!` })).items)).toEqual([catalog.tray.id]);
    expect(ids((await search({ q: `${word} nowhere${uniqueWord()}` })).items)).toEqual([]);
  });

  it('splits the query into words as the indexed text was split: a number, a host, a hyphenated word', async () => {
    const own = uniqueWord();
    const speaker = await create({ name: `${own} Speaker 3.5`, description: 'Made by shop.example.com', priceCents: 4000 });
    const hyphenated = await create({ name: `${own} blue-mug`, priceCents: 800 });
    const spaced = await create({ name: `${own} Blue mug`, priceCents: 800 });
    const found = async (q: string) => ids((await search({ q: `${own} ${q}` })).items);
    expect(await found('3.5')).toEqual([speaker.id]);
    expect(await found('3')).toEqual([speaker.id]);
    expect(await found('shop.example')).toEqual([speaker.id]);
    expect(await found('blue-mug')).toEqual([hyphenated.id, spaced.id]);
    expect(await found('blue mu')).toEqual([hyphenated.id, spaced.id]);
    expect(await found("it's")).toEqual([]);
  });

  it('finds words with accents, in any case', async () => {
    expect(ids((await search({ q: `brûlée ${describedWord}` })).items)).toEqual([catalog.creme.id]);
    expect(ids((await search({ q: `CRÈME ${describedWord}` })).items)).toEqual([catalog.creme.id]);
  });

  it('keeps a price range (inclusive) and products in stock', async () => {
    expect(ids((await search({ q: word, minPriceCents: 1000, maxPriceCents: 1500 })).items)).toEqual(ids([catalog.soldOut, catalog.tray]));
    expect(ids((await search({ q: word, minPriceCents: 1500 })).items)).toEqual(ids([catalog.soldOut, catalog.lamp, catalog.tray]));
    expect(ids((await search({ q: word, maxPriceCents: 500 })).items)).toEqual([catalog.mug.id]);
    expect(ids((await search({ q: word, minPriceCents: 500, maxPriceCents: 500 })).items)).toEqual([catalog.mug.id]);
    expect(ids((await search({ q: word, inStock: true })).items)).toEqual(ids([catalog.mug, catalog.lamp, catalog.tray]));
    expect(ids((await search({ q: word, inStock: false })).items)).toHaveLength(4);
    expect(ids((await search({ q: word, inStock: true, minPriceCents: 1000, sort: '-price' })).items)).toEqual(
      ids([catalog.lamp, catalog.tray]),
    );
  });

  it.each(['price', '-price', 'name'] as const)('sorts by %s, ties by id', async (sort) => {
    const matches = [catalog.mug, catalog.soldOut, catalog.lamp, catalog.tray];
    expect(ids((await search({ q: word, sort })).items)).toEqual(ids([...matches].sort(orders[sort])));
  });

  it('lists the whole catalog as before when no search parameter is given', async () => {
    const page = await search({ limit: 100 });
    expect(page.items.every((product) => product.active)).toBe(true);
    const created = page.items.map((product) => (product as Product & { createdAt: string }).createdAt);
    expect(created).toEqual([...created].sort());
  });
});

describe('paging through a sorted search', () => {
  it.each(['price', '-price', 'name'] as const)(
    'sort=%s: every match exactly once, in order, while products are added between pages',
    async (sort) => {
      const word = uniqueWord();
      // Prices with ties (the id decides between them), names with a shared start.
      const prices = [700, 300, 700, 900, 100, 700, 500, 300];
      const original: Product[] = [];
      for (const [index, priceCents] of prices.entries()) original.push(await create({ name: `${word} m${index}`, priceCents }));
      const [cheapest, dearest, first, last] = [100, 9_999, `${word} a`, `${word} z`];
      // Added after the first page: one that sorts before everything already served (so never
      // listed on a later page), one that sorts after everything (so listed at the end).
      const added: { early?: Product; late?: Product } = {};
      const served = await allPages({ q: word, sort, limit: 3 }, async (page) => {
        if (page !== 0) return;
        const early = { price: { priceCents: cheapest - 1, name: `${word} m9` }, '-price': { priceCents: dearest, name: `${word} m9` } }[
          sort as 'price'
        ] ?? { priceCents: 400, name: first };
        const late = { price: { priceCents: dearest, name: `${word} m10` }, '-price': { priceCents: 1, name: `${word} m10` } }[
          sort as 'price'
        ] ?? { priceCents: 400, name: last };
        added.early = await create(sort === 'name' ? early : { ...early, name: `${word} early` });
        added.late = await create(sort === 'name' ? late : { ...late, name: `${word} late` });
      });

      expect(new Set(ids(served)).size).toBe(served.length);
      expect(ids(served)).toEqual(ids([...served].sort(orders[sort])));
      expect(ids(served.filter((p) => original.some((o) => o.id === p.id)))).toEqual(ids([...original].sort(orders[sort])));
      expect(ids(served)).not.toContain(added.early!.id);
      expect(served.at(-1)?.id).toBe(added.late!.id);
      expect(served).toHaveLength(original.length + 1);
    },
  );

  it('pages through the default order with the cursors of before', async () => {
    const word = uniqueWord();
    const created: Product[] = [];
    for (let index = 0; index < 5; index++) created.push(await create({ name: `${word} ${index}`, priceCents: 100 }));
    expect(ids(await allPages({ q: word, limit: 2 }))).toEqual(ids(created));
    // A cursor is the last product's id as before sorting existed, so old cursors stay valid.
    const page = await search({ q: word, limit: 2, cursor: Buffer.from(created[1]!.id).toString('base64url') });
    expect(ids(page.items)).toEqual(ids(created.slice(2, 4)));
  });
});

describe('a name of characters outside the Basic Multilingual Plane', () => {
  it('pages by name past it: its cursor counts characters as the schema does, not UTF-16 units', async () => {
    const word = uniqueWord();
    // 150 characters of two UTF-16 units each: within the 200 characters a name may have. The
    // other name extends it, so sorts after it in any collation.
    const astral = await create({ name: `${word} ${'😀'.repeat(150)}`, priceCents: 100 });
    const other = await create({ name: `${astral.name}b`, priceCents: 100 });
    const first = await search({ q: word, sort: 'name', limit: 1 });
    expect(ids(first.items)).toEqual([astral.id]);
    const second = await call<{ items: Product[] }>('GET', `${products}?q=${word}&sort=name&limit=1&cursor=${first.nextCursor}`);
    expect({ status: second.status, ids: ids(second.body.items ?? []) }).toEqual({ status: 200, ids: [other.id] });
  });
});

describe('bad requests answer 400 problem+json', () => {
  const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  let cursors: Record<'price' | 'name' | 'created', string>;

  beforeAll(async () => {
    const word = uniqueWord();
    for (let index = 0; index < 3; index++) await create({ name: `${word} ${index}`, priceCents: 100 * (index + 1) });
    cursors = {
      price: (await search({ q: word, sort: 'price', limit: 1 })).nextCursor!,
      name: (await search({ q: word, sort: 'name', limit: 1 })).nextCursor!,
      created: (await search({ q: word, limit: 1 })).nextCursor!,
    };
  });

  it('refuses a cursor of another sort, or one it did not issue', async () => {
    const refused = async (query: string) => expectProblem(await call('GET', `${products}?${query}`), 400, 'INVALID_CURSOR');
    await refused(`sort=name&cursor=${cursors.price}`);
    await refused(`sort=-price&cursor=${cursors.price}`);
    await refused(`cursor=${cursors.price}`);
    await refused(`sort=price&cursor=${cursors.created}`);
    await refused(`sort=price&cursor=${cursors.name}`);
    await refused('sort=price&cursor=garbage');
    await refused(`sort=price&cursor=${cursorOf(['price', -1, randomUUID()])}`);
    await refused(`sort=price&cursor=${cursorOf(['price', 1.5, randomUUID()])}`);
    await refused(`sort=price&cursor=${cursorOf(['price', 1e30, randomUUID()])}`);
    await refused(`sort=price&cursor=${cursorOf(['price', '100', randomUUID()])}`);
    await refused(`sort=price&cursor=${cursorOf(['price', 100, 'not-a-uuid'])}`);
    await refused(`sort=price&cursor=${cursorOf(['price', 100])}`);
    await refused(`sort=price&cursor=${cursorOf({ sort: 'price' })}`);
    await refused(`sort=name&cursor=${cursorOf(['name', 'a\u0000b', randomUUID()])}`);
    await refused(`sort=name&cursor=${cursorOf(['name', '', randomUUID()])}`);
    await refused(`cursor=${Buffer.from(randomUUID()).toString('base64url')}`);
    // A well-formed position of this sort is only a place to start from: it is served.
    expect((await call('GET', `${products}?sort=name&cursor=${cursorOf(['name', 'ß 🙂', randomUUID()])}`)).status).toBe(200);
  });

  it('refuses a minimum price above the maximum', async () => {
    const response = await call('GET', `${products}?minPriceCents=2000&maxPriceCents=1000`);
    expectProblem(response, 400, 'INVALID_PRICE_RANGE');
  });

  it.each([
    ['only punctuation', '%21%3F%20-%22'],
    ['only spaces', '%20%20%20'],
    ['only an emoji', encodeURIComponent('🙂🙂')],
  ])('refuses a q without a word (%s)', async (_case, q) => {
    expectProblem(await call('GET', `${products}?q=${q}`), 400, 'INVALID_SEARCH_QUERY');
  });

  it.each([
    ['an empty q', 'q='],
    ['a q of 201 characters', `q=${'a'.repeat(201)}`],
    ['two q', 'q=a&q=b'],
    ['a negative price', 'minPriceCents=-1'],
    ['a fractional price', 'maxPriceCents=1.5'],
    ['a price beyond the largest', 'maxPriceCents=10000000000000'],
    ['a price that is no number', 'minPriceCents=cheap'],
    ['an inStock that is no boolean', 'inStock=maybe'],
    ['an unknown sort', 'sort=popularity'],
    ['a sort on a hidden column', 'sort=created_at'],
    ['an unknown parameter', 'colour=blue'],
    ['a limit above 100', 'limit=101'],
    ['a NUL in q (PostgreSQL stores none)', 'q=mug%00'],
  ])('refuses %s', async (_case, query) => {
    expectProblem(await call('GET', `${products}?${query}`), 400, 'VALIDATION_FAILED');
  });

  it.each([
    ['a NUL inside a word', `ab%00cd`],
    ['combining marks', encodeURIComponent('e\u0301te\u0301')],
    ['right-to-left text', encodeURIComponent('مرحبا עולם')],
    ['a lone surrogate', '%ED%A0%80abc'],
    ['invalid UTF-8', '%FF%FEabc'],
    ['a broken escape', '%E2%82abc%'],
    ['tsquery operators', encodeURIComponent("a & !b | c:* <-> 'd' (e)")],
    ['SQL', encodeURIComponent("x'); drop table products; --")],
    ['a backslash', encodeURIComponent('a\\b\\')],
    ['200 one-letter words', encodeURIComponent('a '.repeat(100))],
  ])('answers a q with %s, never 5xx', async (_case, q) => {
    const response = await call<Page>('GET', `${products}?q=${q}`);
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
    if (response.status !== 200) expectProblem(response, 400);
  });
});
