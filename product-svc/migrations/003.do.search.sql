-- Search of the public listing (GET /products?q=&minPriceCents=&maxPriceCents=&inStock=&sort=).
--
-- Text search is PostgreSQL full text over name and description with the 'simple'
-- configuration: product names are brands and made-up words more often than English, so
-- no stemming and no stop words, just lower-cased words; the query matches word prefixes
-- ('mu' finds "Mug"). A generated column keeps the document in step with the row without a
-- trigger, and the expression is written once, here. (pg_trgm would match inside words too,
-- but it is an extension to install and keep in every environment; word prefixes are what
-- a catalog search needs.)
ALTER TABLE products
  ADD COLUMN search_document tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, name || ' ' || description)) STORED;

CREATE INDEX products_search_idx ON products USING gin (search_document) WHERE active;

-- The keyset orders of the other sorts, (sort key, id), for active products as listed; the
-- descending price order reads products_price_idx backwards.
CREATE INDEX products_price_idx ON products (price_cents, id) WHERE active;
CREATE INDEX products_name_idx ON products (name, id) WHERE active;
