-- One row per transaction, shaped like a stored webhook event (the ceiling for one-commit-per-request).
INSERT INTO bench_events (tenant_id, id, dedup_key, page_facebook_id, sender_key, kind, occurred_at, received_at, item, status, attempts, next_attempt_at)
VALUES ('01a1fcaa-0000-7000-8000-000000000001', gen_random_uuid(), md5(random()::text), '104857600000001', 'psid:6200000000001234', 'referral', now(), now(),
        '{"sender":{"id":"6200000000001234"},"recipient":{"id":"104857600000001"},"timestamp":1795000000000,"referral":{"ref":"tutorial--gold--738--Berlin--514--42","source":"SHORTLINK","type":"OPEN_THREAD"}}'::jsonb,
        'pending', 0, now());
