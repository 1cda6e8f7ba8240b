-- events: policy events to mark on time series.
-- Parameters: none.
-- Output: date, title, minerals, countries, source.
SELECT date, title, minerals, countries, source FROM events ORDER BY date
