-- events: policy events to mark on time series.
-- Parameters: none.
-- Output: date, title, kind, minerals, countries, summary, source, url.
SELECT date, title, kind, minerals, countries, summary, source, url FROM events ORDER BY date, title
