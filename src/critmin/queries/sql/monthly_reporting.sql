-- monthly_reporting: which reporters have published which months, whatever they
-- declared (any code, any partner): the months each reporter's source holds within the
-- window, its first and last, and the newest vintage. A month inside a reporter's range
-- that is absent is a month it has not published (or critmin has not loaded).
-- Parameters: $ym_from, $ym_to (INTEGER, year * 100 + month), $sides (VARCHAR[]).
-- Output: reporter, side, source, first_ym, last_ym, months (INTEGER[], year * 100 +
-- month, ascending), vintage. In no order.
WITH published AS (
    SELECT reporter, side, source, (year * 100 + month)::INTEGER AS ym, max(vintage) AS vintage
    FROM monthly_flows
    WHERE year * 100 + month BETWEEN $ym_from AND $ym_to
      AND list_contains($sides, side)
    GROUP BY ALL
)
SELECT reporter, side, source, min(ym) AS first_ym, max(ym) AS last_ym,
       list(ym ORDER BY ym) AS months, max(vintage) AS vintage
FROM published
GROUP BY ALL
