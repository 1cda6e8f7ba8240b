-- mineral_baskets: the mineral -> HS6 mapping per edition.
-- Parameters: none.
-- Output: mineral, label, hs_edition, hs6, stage, shared_basket, note, lists (critical-minerals
--   lists the mineral is on: USGS2025, EU2023), citation.
SELECT mineral, label, hs_edition, hs6, stage, shared_basket, note, lists, citation
FROM mineral_baskets
ORDER BY mineral, hs_edition, hs6
