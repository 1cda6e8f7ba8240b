-- flows_explorer: raw flows for ad-hoc filtering. An empty list means "any".
-- Parameters: $exporters, $importers, $minerals, $codes, $year_from, $year_to, $sides.
-- Output: year, series, hs_edition, hs6, description, exporter, importer, value_usd,
-- quantity_kg, unit_value_usd_per_kg, side, source, release.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.hs_edition, f.hs6, p.description,
       f.exporter, f.importer, f.value_usd, f.quantity_kg,
       f.value_usd / nullif(f.quantity_kg, 0) AS unit_value_usd_per_kg,
       f.side, f.source, f.release
FROM selected AS f
LEFT JOIN products AS p ON p.hs6 = f.hs6 AND p.hs_edition = f.hs_edition
WHERE (len($exporters) = 0 OR list_contains($exporters, f.exporter))
  AND (len($importers) = 0 OR list_contains($importers, f.importer))
  AND (len($sides) = 0 OR list_contains($sides, f.side))
  AND f.year BETWEEN $year_from AND $year_to
ORDER BY f.year DESC, f.value_usd DESC
