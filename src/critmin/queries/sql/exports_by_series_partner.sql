-- exports_by_series_partner: exports per year, series (mineral basket or HS6 code) and
-- importing partner; a flow whose code sits in two chosen baskets counts under both, so
-- totals across series need exports_by_partner. (The nowcast's backtest compares the
-- monthly method with these reconciled figures, per mineral and partner.)
-- Parameters: those of selected (a TradeFilter).
-- Output: year, series, partner, value_usd, quantity_kg. In no order.
WITH
-- include: selected
SELECT f.year::INTEGER AS year, f.series, f.importer AS partner,
       sum(f.value_usd) AS value_usd,
       -- tonnes only within one value-chain stage (series_stages and stage_key: selected)
       CASE WHEN max(f.series_stages) <= 1 AND min(f.stage_key) = max(f.stage_key)
            THEN sum(f.quantity_kg)
       END AS quantity_kg
FROM selected AS f
GROUP BY ALL
