-- monthly_published: the months each reporter has published (any code, any partner),
-- per source, side and classification, with the rows and the newest vintage: the
-- derived table whole, a few thousand rows, read once per warehouse version by the
-- catalog (who has reported up to which month; the latest month loaded).
-- Parameters: none.
-- Output: reporter, side, source, classification, ym (year * 100 + month), rows,
-- vintage. In no order.
SELECT reporter, side, source, classification, (year * 100 + month)::INTEGER AS ym, rows,
       vintage
FROM monthly_published
