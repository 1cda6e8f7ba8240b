-- mirror_flows: one exporter's exports per year, series, partner and side of the
-- declaration (reconciled, exporter-reported, importer-reported), with the source.
-- Parameters: $exporter, $minerals, $codes, $year_from, $year_to.
-- Output: year, series, partner, side, source, value_usd.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.importer AS partner, f.side, f.source,
       sum(f.value_usd) AS value_usd
FROM selected AS f
WHERE f.exporter = $exporter
  AND f.year BETWEEN $year_from AND $year_to
GROUP BY ALL
ORDER BY series, year, partner, side
