-- code_texts: every HS6 code of the HS editions the trade data hold, with its text: the
-- codes a user may type (a code outside them matches no flow), and what a code shared
-- with other goods holds.
-- Parameters: $editions (VARCHAR[]).
-- Output: hs_edition, hs6, description.
SELECT hs_edition, hs6, description FROM products WHERE list_contains($editions, hs_edition)
