-- Adds subscribers to a page until it holds :target of them, each with a value for one custom
-- field, the first thousand with a tag too (what a page of the list shows).
-- Run as the schema owner (psql -v tenant=… -v page=… -v field=… -v tag=… -v target=…).
-- Ids are UUID v7 shaped (time-ordered), like the application's.
\set ON_ERROR_STOP on
CREATE OR REPLACE FUNCTION pg_temp.uuid_v7(at timestamptz, n bigint) RETURNS uuid AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0')
          || '7' || lpad(to_hex(n % 4096), 3, '0')
          || to_hex(8 + (n / 4096) % 4) || lpad(to_hex((n / 16384) % 4096), 3, '0')
          || lpad(to_hex(n), 12, '0'))::uuid
$$ LANGUAGE sql IMMUTABLE;

ALTER TABLE subscribers DISABLE TRIGGER ALL;
ALTER TABLE subscriber_field_values DISABLE TRIGGER ALL;
INSERT INTO subscribers (tenant_id, id, page_id, sender_key, psid, first_seen_at,
                         last_interaction_at, entry_count, created_at, updated_at)
SELECT :'tenant', pg_temp.uuid_v7(now() - interval '400 days' + n * interval '1 second', n),
       :'page', 'psid:' || (7000000000000000 + n), (7000000000000000 + n)::text,
       now() - interval '400 days' + n * interval '1 second',
       now() - (n % 1000) * interval '1 minute', 1, now(), now()
FROM generate_series((SELECT count(*) FROM subscribers WHERE page_id = :'page') + 1, :target) AS n;
INSERT INTO subscriber_field_values (tenant_id, subscriber_id, field_id, value, set_at)
SELECT tenant_id, id, :'field', 'City ' || (substr(psid, 12)::bigint % 500), now()
FROM subscribers s WHERE page_id = :'page'
  AND NOT EXISTS (SELECT 1 FROM subscriber_field_values v
                  WHERE v.tenant_id = s.tenant_id AND v.subscriber_id = s.id);
ALTER TABLE subscribers ENABLE TRIGGER ALL;
ALTER TABLE subscriber_field_values ENABLE TRIGGER ALL;
INSERT INTO subscriber_tags (tenant_id, subscriber_id, tag_id, added_at)
SELECT tenant_id, id, :'tag', now() FROM subscribers WHERE page_id = :'page'
ORDER BY id LIMIT 1000 ON CONFLICT DO NOTHING;
-- What autovacuum would have done by the time a dashboard reads these rows (it is off on the
-- benchmark machine): statistics, and the visibility map that lets a count read the index alone.
VACUUM ANALYZE subscribers;
VACUUM ANALYZE subscriber_field_values;
VACUUM ANALYZE subscriber_tags;
