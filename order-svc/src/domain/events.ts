// The events order-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent, type CancelReason } from '@shop/kit';
import type { OrderRow } from './orders.ts';

type OrderFacts = Pick<OrderRow, 'id' | 'userId' | 'items' | 'totalCents' | 'currency' | 'paymentToken'>;

export const orderPlaced = (order: OrderFacts, placedAt: number) =>
  outboxEvent('order-placed', order.id, {
    orderId: order.id,
    userId: order.userId,
    items: order.items,
    totalCents: order.totalCents,
    currency: order.currency,
    paymentToken: order.paymentToken,
    placedAt,
  });

export const orderConfirmed = (order: OrderFacts, confirmedAt: Date) =>
  outboxEvent('order-confirmed', order.id, {
    orderId: order.id,
    userId: order.userId,
    totalCents: order.totalCents,
    currency: order.currency,
    confirmedAt: confirmedAt.getTime(),
  });

export const orderCancelled = (order: OrderFacts, reason: CancelReason, cancelledAt: Date) =>
  outboxEvent('order-cancelled', order.id, { orderId: order.id, userId: order.userId, reason, cancelledAt: cancelledAt.getTime() });
