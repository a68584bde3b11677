"""``vldesk bench``: how fast a model runs here, against a plain baseline and the ceiling."""
