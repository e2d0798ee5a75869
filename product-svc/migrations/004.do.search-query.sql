-- The tsquery of a search text (GET /products?q=), made by the parser that made the indexed
-- document, so that a query's words are the document's words: '3.5', 'example.com' and
-- 'foo@bar.com' are one word each to it, where splitting at every other character outside
-- the database made '3' and '5', which no document holds. Each word is a prefix ('mu' finds
-- "Mug"), all are required. A hyphenated word counts as its parts ('blue-mug' finds "Blue
-- mug" as well as "blue-mug", whose document holds the whole word and its parts). The lexemes
-- are quoted and cast, not given to to_tsquery, which would parse them again. NULL when the
-- text has no word.
CREATE FUNCTION search_prefix_query(search_text text) RETURNS tsquery
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN (
  SELECT string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''':*', ' & ')::tsquery
  FROM ts_debug('simple'::regconfig, search_text) AS token, unnest(token.lexemes) AS lexeme
  WHERE token.alias NOT IN ('asciihword', 'hword', 'numhword')
);
