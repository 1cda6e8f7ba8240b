-- monthly_summary: what monthly_flows holds, per source, side and classification: the
-- first and last month (year * 100 + month), reporters, rows and newest vintage (the
-- catalog's "latest month" line and the About page).
-- Parameters: none.
-- Output: source, side, classification, first_ym, last_ym, reporters, rows, vintage.
SELECT source, side, classification,
       min(year * 100 + month)::INTEGER AS first_ym,
       max(year * 100 + month)::INTEGER AS last_ym,
       count(DISTINCT reporter)::BIGINT AS reporters,
       count(*)::BIGINT AS rows,
       max(vintage) AS vintage
FROM monthly_flows
GROUP BY ALL
ORDER BY source, side, classification
