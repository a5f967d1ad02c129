-- Cylinders riding a vehicle take its position whenever it moves.
CREATE INDEX cylinder_state_on_vehicle ON cylinder_state (place_code) WHERE place_kind = 'vehicle';
