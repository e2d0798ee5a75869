import { Type } from 'typebox';
import { adminAuth, Problem, type HttpApp } from '@shop/kit';
import {
  createProduct,
  deactivateProduct,
  editProduct,
  getProduct,
  listProducts,
  type ProductRow,
  type ProductsDependencies,
} from '../domain/products.ts';
import { decodeListingCursor, encodeListingCursor } from './cursor.ts';
import { CreateProductBody, IfMatchHeaders, Product, ProductListQuery, ProductPage, ProductParams, UpdateProductBody } from './schemas.ts';
import { productProblems } from '../domain/problems.ts';

const toProduct = (row: ProductRow): Product => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const etag = (row: ProductRow) => `"${row.version}"`;

/** `"3"`, `W/"3"` or `3` → 3; absent or `*` → no condition. */
function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(ifMatch);
  if (!match) throw productProblems.INVALID_IF_MATCH('If-Match must be the ETag of the product, e.g. "3".');
  return Number(match[1]);
}

export async function productRoutes(app: HttpApp, dependencies: ProductsDependencies): Promise<void> {
  const adminOnly = app.requireRole('admin');

  app.post(
    '/products',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Create a product (admin; emits product-update CREATED)',
        security: adminAuth,
        body: CreateProductBody,
        response: { 201: Product, 400: Problem },
      },
    },
    async (request, reply) => {
      const row = await createProduct(dependencies, { description: '', ...request.body });
      return reply.code(201).header('etag', etag(row)).header('location', `/products/${row.id}`).send(toProduct(row));
    },
  );

  app.get(
    '/products',
    {
      schema: {
        tags: ['products'],
        summary: 'Search the active products (words, price range, in stock), sorted, one page at a time',
        querystring: ProductListQuery,
        response: { 200: ProductPage, 400: Problem },
      },
    },
    async (request) => {
      const { q, minPriceCents, maxPriceCents, inStock, limit, cursor } = request.query;
      const sort = request.query.sort ?? 'created';
      const after = cursor === undefined ? undefined : decodeListingCursor(cursor, sort);
      const page = await listProducts(dependencies, { text: q, minPriceCents, maxPriceCents, inStock, sort, limit, after });
      return { items: page.items.map(toProduct), nextCursor: page.last === undefined ? null : encodeListingCursor(page.last) };
    },
  );

  app.get(
    '/products/:id',
    {
      schema: {
        tags: ['products'],
        summary: 'A product, also an inactive one',
        params: ProductParams,
        response: { 200: Product, 400: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      const row = await getProduct(dependencies, request.params.id);
      return reply.header('etag', etag(row)).send(toProduct(row));
    },
  );

  app.patch(
    '/products/:id',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Change a product (admin; If-Match for optimistic concurrency; emits product-update UPDATED)',
        security: adminAuth,
        params: ProductParams,
        headers: IfMatchHeaders,
        body: UpdateProductBody,
        response: { 200: Product, 400: Problem, 404: Problem, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const row = await editProduct(dependencies, request.params.id, request.body, expectedVersion(request.headers['if-match']));
      return reply.header('etag', etag(row)).send(toProduct(row));
    },
  );

  app.delete(
    '/products/:id',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Make a product inactive (admin; emits product-update DELETED)',
        security: adminAuth,
        params: ProductParams,
        headers: IfMatchHeaders,
        response: { 204: Type.Null({ description: 'No content' }), 400: Problem, 404: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      await deactivateProduct(dependencies, request.params.id, expectedVersion(request.headers['if-match']));
      return reply.code(204).send(null);
    },
  );
}
