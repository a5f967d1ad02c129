-- Directory search (issue 21 item 5): `q` finds a record by its code's prefix (the primary
-- keys serve that: the database collates as C) or by any part of its name, however short.
-- Most names searched are two Chinese characters, which pg_trgm cannot index (it needs three),
-- so each name is indexed by its characters and pairs of characters: `directory_grams`,
-- lower-cased, over GIN. A search for one character asks for that character, a longer one for
-- all its pairs (`directory_query_grams`), and the name is then checked to contain the text.
-- The GIN indexes write through (no pending list: registry writes are single rows, and a
-- search must not scan a backlog).

CREATE FUNCTION directory_grams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}')
    FROM (SELECT substr(lower(name), i, 1) AS g FROM generate_series(1, length(name)) AS i
          UNION ALL
          SELECT substr(lower(name), i, 2) FROM generate_series(1, length(name) - 1) AS i) AS grams
$$;

CREATE FUNCTION directory_query_grams(q text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN length(q) = 1 THEN ARRAY[lower(q)]
                ELSE (SELECT coalesce(array_agg(DISTINCT substr(lower(q), i, 2)), '{}')
                      FROM generate_series(1, length(q) - 1) AS i) END
$$;

CREATE INDEX enterprises_name_grams ON enterprises USING gin (directory_grams(name))
    WITH (fastupdate = off);
CREATE INDEX stations_name_grams ON stations USING gin (directory_grams(name))
    WITH (fastupdate = off);
CREATE INDEX customers_name_grams ON customers USING gin (directory_grams(name))
    WITH (fastupdate = off);
CREATE INDEX staff_name_grams ON staff USING gin (directory_grams(name))
    WITH (fastupdate = off);

-- A code's prefix (`code LIKE 'q%'`): the databases collate as "C.UTF-8", which PostgreSQL 15
-- does not take for "C" when it turns LIKE into an index range, so the primary keys do not
-- serve it; text_pattern_ops does.
CREATE INDEX enterprises_code_prefix ON enterprises (code text_pattern_ops);
CREATE INDEX stations_code_prefix ON stations (code text_pattern_ops);
CREATE INDEX customers_code_prefix ON customers (code text_pattern_ops);
CREATE INDEX staff_no_prefix ON staff (staff_no text_pattern_ops);
