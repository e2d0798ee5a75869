/** A UUID as PostgreSQL's uuid type takes it in text (no braces, no `urn:uuid:` prefix), in either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
