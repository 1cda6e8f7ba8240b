-- deposit_filter: the conditions the deposits queries share, after a WHERE. An empty
-- list means "any": its condition is dropped from the text (db.specialise).
-- Parameters: $countries, $commodities, $statuses (VARCHAR[]).
-- Included by deposits and site_points; not run on its own.
    -- only with $countries
      AND list_contains($countries, country)
    -- end
    -- only with $commodities
      AND len(list_intersect($commodities, commodities)) > 0
    -- end
    -- only with $statuses
      AND list_contains($statuses, status)
    -- end
