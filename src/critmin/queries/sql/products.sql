-- products: HS6 descriptions for chosen codes (all editions).
-- Parameters: $codes.
-- Output: hs_edition, hs6, description.
SELECT hs_edition, hs6, description FROM products WHERE list_contains($codes, hs6)
ORDER BY hs6, hs_edition
