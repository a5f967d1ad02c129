-- Staff numbers (工号) belong to their enterprise (issue 20, item 2): two enterprises may both
-- have "001". The key becomes (enterprise_code, staff_no); every join on staff_no names the
-- enterprise as well. Existing rows are unique city-wide, so they are unique per enterprise.
ALTER TABLE staff DROP CONSTRAINT staff_pkey;
ALTER TABLE staff ADD CONSTRAINT staff_pkey PRIMARY KEY (enterprise_code, staff_no);
-- Looked up by number across enterprises at ingest (a number of another enterprise is refused).
CREATE INDEX staff_no ON staff (staff_no);
