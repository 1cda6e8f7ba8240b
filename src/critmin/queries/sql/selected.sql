-- selected: the trade flows a request asks for, one row per flow and series: a
-- mineral basket's id, or "HS 123456" for a code chosen directly. A flow whose code
-- sits in two chosen baskets appears under both, so per-series totals are right and
-- totals across series must use selected_once instead. Basket flows come from
-- mineral_flows (derived when the data change, sorted by mineral and exporter); codes
-- chosen directly are read from trade_flows, whose files are sorted by hs6, so both
-- scans skip the row groups of other products. Without codes the trade_flows branch
-- is left out of the text (see db.specialise).
-- $stages keeps only the basket codes of those value-chain stages (codes chosen
-- directly have no stage and are kept).
-- series_stages: how many value-chain stages the series' codes span in the flow's HS
-- edition (over the chosen stages; 1 for a code chosen directly). Gross tonnes of
-- different stages (copper concentrate and cathode) are never added: queries sum
-- quantity_kg only where this is 1 and the group's flows share one stage_key (the
-- stage, or the code itself for a code chosen directly) (docs/baskets.md, "Tonnes").
-- Parameters: $minerals, $codes, $stages (VARCHAR[]) and those of trade_filter.
-- Included by the other queries; not run on its own.
series_stages AS (
    SELECT mineral, hs_edition, count(DISTINCT stage) AS stages
    FROM mineral_baskets
    WHERE list_contains($minerals, mineral)
    -- only with $stages
      AND list_contains($stages, stage)
    -- end
    GROUP BY mineral, hs_edition
),
selected AS (
    SELECT f.mineral AS series, f.stage, f.year, f.hs_edition, f.hs6, f.exporter,
           f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release,
           s.stages AS series_stages, f.stage AS stage_key
    FROM mineral_flows AS f
    JOIN series_stages AS s ON s.mineral = f.mineral AND s.hs_edition = f.hs_edition
    WHERE list_contains($minerals, f.mineral)
    -- only with $stages
      AND list_contains($stages, f.stage)
    -- end
    -- include: trade_filter
    -- only with $codes
    UNION ALL
    SELECT 'HS ' || f.hs6 AS series, NULL::VARCHAR AS stage, f.year::INTEGER AS year,
           f.hs_edition, f.hs6,
           f.exporter, f.importer, f.value_usd, f.quantity_kg, f.source, f.side, f.release,
           1 AS series_stages, 'HS ' || f.hs6 AS stage_key
    FROM trade_flows AS f
    WHERE list_contains($codes, f.hs6)
    -- include: trade_filter
    -- end
)
