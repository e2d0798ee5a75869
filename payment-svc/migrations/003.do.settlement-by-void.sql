-- A cancelled order whose charge is not known is settled by voiding its charge key at the
-- gateway (payments.ts, settlePayment), which no late charge request can get past, instead of
-- by waiting until the last unanswered request could no longer land: there was no such time,
-- since a request held up inside the gateway could land after any wait.
ALTER TABLE payments DROP COLUMN charge_unanswered_at;
