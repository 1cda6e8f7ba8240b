-- mineral_baskets: the mineral -> HS6 mapping per edition.
-- Parameters: none.
-- Output: mineral, label, hs_edition, hs6, stage, shared_basket, note.
SELECT mineral, label, hs_edition, hs6, stage, shared_basket, note
FROM mineral_baskets
ORDER BY mineral, hs_edition, hs6
