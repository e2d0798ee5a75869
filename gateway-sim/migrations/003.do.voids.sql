-- A void takes a charge's idempotency key before any charge did, so that no charge can ever
-- be made under it: a merchant that cancels an order whose charge request went unanswered
-- voids the key, and either the void or the charge is first in the ledger (the key is
-- unique), however late the request arrives. A void charges nothing and has no card.
ALTER TABLE charges DROP CONSTRAINT charges_status_check;
ALTER TABLE charges ADD CONSTRAINT charges_status_check CHECK (status IN ('SUCCEEDED', 'DECLINED', 'VOIDED'));
ALTER TABLE charges ALTER COLUMN token DROP NOT NULL;
ALTER TABLE charges ADD CONSTRAINT charges_token_check CHECK ((token IS NULL) = (status = 'VOIDED'));
