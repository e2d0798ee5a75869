import { adminAuth, bearerAuth, cursorPosition, ORDER_ID_ATTRIBUTE, pageAnswer, Problem, tagActiveSpan, type HttpApp } from '@shop/kit';
import { cancelOrder, getOrder, listAllOrders, listOrders, placeOrder, type OrderRow, type OrdersDependencies } from '../domain/orders.ts';
import { orderProblems } from '../domain/problems.ts';
import { AdminOrderQuery, ListQuery, Order, OrderPage, OrderParams, PlaceOrderBody, PlaceOrderHeaders } from './schemas.ts';

const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  userId: row.userId,
  status: row.status,
  ...(row.cancelReason ? { cancelReason: row.cancelReason } : {}),
  items: row.items,
  totalCents: row.totalCents,
  currency: row.currency,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export async function orderRoutes(app: HttpApp, dependencies: OrdersDependencies): Promise<void> {
  app.post(
    '/orders',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['orders'],
        summary: 'Place an order (202 PENDING; the saga confirms or cancels it; emits order-placed)',
        security: bearerAuth,
        headers: PlaceOrderHeaders,
        body: PlaceOrderBody,
        response: { 202: Order, 400: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const order = await placeOrder(dependencies, request.user.id, request.body, request.headers['idempotency-key']);
      tagActiveSpan({ [ORDER_ID_ATTRIBUTE]: order.id });
      return reply.code(202).header('location', `/orders/${order.id}`).send(toOrder(order));
    },
  );

  app.get(
    '/orders/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['orders'],
        summary: 'An order (its owner or an admin)',
        security: bearerAuth,
        params: OrderParams,
        response: { 200: Order, 400: Problem, 404: Problem },
      },
    },
    async (request) => toOrder(await getOrder(dependencies, request.user, request.params.id)),
  );

  app.get(
    '/orders',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['orders'],
        summary: 'Your orders, newest first, one page at a time',
        security: bearerAuth,
        querystring: ListQuery,
        response: { 200: OrderPage, 400: Problem },
      },
    },
    async (request) => {
      const page = await listOrders(dependencies, request.user.id, request.query.limit, cursorPosition(request.query.cursor));
      return pageAnswer(page, toOrder);
    },
  );

  app.post(
    '/orders/:id/cancel',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['orders'],
        summary:
          'Cancel an order, PENDING or CONFIRMED (its owner: CUSTOMER_CANCELLED; an admin: ADMIN_CANCELLED); refund and stock release follow (emits order-cancelled)',
        security: bearerAuth,
        params: OrderParams,
        response: { 202: Order, 400: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      tagActiveSpan({ [ORDER_ID_ATTRIBUTE]: request.params.id });
      return reply.code(202).send(toOrder(await cancelOrder(dependencies, request.user, request.params.id)));
    },
  );

  app.get(
    '/admin/orders',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: "Every user's orders, newest first, filtered by status, user and time placed (admin)",
        security: adminAuth,
        querystring: AdminOrderQuery,
        response: { 200: OrderPage, 400: Problem },
      },
    },
    async (request) => {
      const { status, userId, from, to, limit, cursor } = request.query;
      const range = { from: from === undefined ? undefined : new Date(from), to: to === undefined ? undefined : new Date(to) };
      if (range.from && range.to && range.from >= range.to) {
        throw orderProblems.INVALID_TIME_RANGE('`from` must be before `to`.');
      }
      const page = await listAllOrders(dependencies, { status, userId, ...range }, limit, cursorPosition(cursor));
      return pageAnswer(page, toOrder);
    },
  );
}
