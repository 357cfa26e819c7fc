"""Analytics over the client base: ABC, A-E, RFM, lifetime value, cohorts and movement between refreshes."""
