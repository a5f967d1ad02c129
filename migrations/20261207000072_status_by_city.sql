-- A city's sanction is the city's to lift: a record the administrator or the city regulator
-- suspended is reinstated by one of them, not by a district regulator (who could otherwise
-- undo the city bureau's suspension within its district). Existing suspensions by a regulator
-- keep today's rule (any regulator lifts them): their rank was not recorded.
ALTER TABLE enterprises ADD COLUMN suspended_by_city boolean NOT NULL DEFAULT false;
ALTER TABLE stations    ADD COLUMN suspended_by_city boolean NOT NULL DEFAULT false;
ALTER TABLE staff       ADD COLUMN suspended_by_city boolean NOT NULL DEFAULT false;
ALTER TABLE vehicles    ADD COLUMN suspended_by_city boolean NOT NULL DEFAULT false;
ALTER TABLE devices     ADD COLUMN suspended_by_city boolean NOT NULL DEFAULT false;
