-- selected_once: the trade flows a request asks for, each flow exactly once, for totals
-- across series. A code in several chosen baskets (811292 is in gallium, germanium,
-- indium, niobium and vanadium) is counted under the first of them (its "owner") and
-- labelled with all of them; a code chosen directly that a chosen basket already holds
-- is not counted again.
-- A flow's stage is its owner's; $stages keeps only the basket codes of those stages.
-- Parameters: $minerals, $codes, $stages (VARCHAR[]) and those of trade_filter.
-- Output (as a CTE): series (the chosen baskets' labels, or "HS 123456"), stage, year,
-- hs_edition, hs6, exporter, importer, value_usd, quantity_kg, source, side, release,
-- series_stages and stage_key (as in selected: tonnes only within one stage).
-- Included by the other queries; not run on its own.
owners AS (
    SELECT hs_edition, hs6, min(mineral) AS owner, arg_min(stage, mineral) AS stage,
           -- (list functions rather than string_agg(DISTINCT ... ORDER BY ...), which DuckDB
           -- plans as an extra aggregate over a materialised CTE: 0.4-2 ms per query)
           array_to_string(list_sort(list_distinct(list(label))), ', ') AS labels
    FROM mineral_baskets
    WHERE list_contains($minerals, mineral)
    -- only with $stages
      AND list_contains($stages, stage)
    -- end
    GROUP BY hs_edition, hs6
),
-- How many value-chain stages a series (a group of baskets) spans in an edition: tonnes
-- are summed only within one (see selected).
series_stages AS (
    SELECT hs_edition, labels, count(DISTINCT stage) AS stages
    FROM owners
    GROUP BY hs_edition, labels
),
selected_once AS (
    SELECT o.labels AS series, f.stage, f.year, f.hs_edition, f.hs6, f.exporter,
           f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release,
           s.stages AS series_stages, f.stage AS stage_key
    FROM mineral_flows AS f
    JOIN owners AS o ON o.hs_edition = f.hs_edition AND o.hs6 = f.hs6 AND o.owner = f.mineral
    JOIN series_stages AS s ON s.hs_edition = o.hs_edition AND s.labels = o.labels
    WHERE list_contains($minerals, f.mineral)
    -- include: trade_filter
    -- only with $codes
    UNION ALL
    SELECT 'HS ' || f.hs6 AS series, NULL::VARCHAR AS stage, f.year::INTEGER AS year,
           f.hs_edition, f.hs6,
           f.exporter, f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release,
           1 AS series_stages, 'HS ' || f.hs6 AS stage_key
    FROM trade_flows AS f
    WHERE list_contains($codes, f.hs6)
      AND NOT EXISTS (
          SELECT 1 FROM owners AS o WHERE o.hs_edition = f.hs_edition AND o.hs6 = f.hs6
      )
    -- include: trade_filter
    -- end
)
