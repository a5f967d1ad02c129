-- Full cylinders per site are counted after each custody batch (overweight_stock).
CREATE INDEX cylinder_state_full_at_place ON cylinder_state (place_kind, place_code)
    WHERE custody IN ('in_stock_full', 'at_customer');
