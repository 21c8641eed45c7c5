-- Rate limits shared by every replica: one token bucket per key (a credential's intake, a
-- session's actions, an address's sign-ins, a channel's outbox). `tokens` as of `at_ms`.
CREATE TABLE rate_buckets (
    key     TEXT PRIMARY KEY,
    tokens  DOUBLE PRECISION NOT NULL,
    at_ms   BIGINT NOT NULL
);
CREATE INDEX rate_buckets_age ON rate_buckets (at_ms);
