-- flows_facet: for one filter of the Data explorer, how many flows and how much value
-- each of its values would match under the other filters (a facet, as Datasette shows
-- beside each choice). The caller leaves the facet's own filter empty ("any").
-- $facet 'mineral' counts every basket's flows under each basket that holds their code
-- (what choosing that mineral alone would show; ask with every mineral and
-- $per_mineral); the other facets count each flow once.
-- Parameters: $facet (VARCHAR: exporter, importer, mineral, stage or side) and those of
-- explorer_flows.
-- Output: value, flows, value_usd (values that match nothing are not listed).
WITH
-- include: explorer_flows
SELECT value, count(*) AS flows, sum(value_usd) AS value_usd
FROM (
    SELECT CASE $facet
               WHEN 'exporter' THEN f.exporter
               WHEN 'importer' THEN f.importer
               WHEN 'mineral' THEN f.mineral
               WHEN 'stage' THEN f.stage
               WHEN 'side' THEN f.side
           END AS value,
           f.value_usd
    FROM explorer_flows AS f
)
WHERE value IS NOT NULL
GROUP BY value
ORDER BY value_usd DESC, value
