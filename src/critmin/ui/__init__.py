"""Streamlit building blocks shared by the pages: URL state, cached data access,
number formatting, charts, the map, and page furniture (banners, notes)."""
