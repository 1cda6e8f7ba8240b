-- flows_explorer: the flows themselves, each once, for ad-hoc filtering, with the HS
-- text of the code in its edition (one text per code and edition: see the products
-- view in db.py).
-- Parameters: those of selected_once (a TradeFilter).
-- Sort by: year, value_usd, quantity_kg, unit_value_usd_per_kg, exporter, importer, hs6, side, source
-- Output: year, series, hs_edition, hs6, description, exporter, importer, value_usd,
-- quantity_kg, unit_value_usd_per_kg, side, source, release.
WITH
-- include: selected_once
SELECT f.year::INTEGER AS year, f.series, f.hs_edition, f.hs6, p.description,
       f.exporter, f.importer, f.value_usd, f.quantity_kg,
       f.value_usd / nullif(f.quantity_kg, 0) AS unit_value_usd_per_kg,
       f.side, f.source, f.release
FROM selected_once AS f
LEFT JOIN products AS p ON p.hs6 = f.hs6 AND p.hs_edition = f.hs_edition
