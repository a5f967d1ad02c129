-- Issue 21 item 4: cylinder lifecycle. Two optional archive fields, and tag replacements:
-- a replaced tag is void for ever (never bound again to any cylinder), and the replacement
-- is part of the cylinder's history.

ALTER TABLE cylinders
    ADD COLUMN serial_no        text CHECK (char_length(serial_no) <= 64),
    ADD COLUMN production_batch text CHECK (char_length(production_batch) <= 64);

CREATE TABLE tag_replacements (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cylinder_id bigint NOT NULL REFERENCES cylinders (id),
    -- A tag is voided once: unique.
    old_tag_id  text NOT NULL UNIQUE,
    new_tag_id  text NOT NULL,
    reason      text NOT NULL,
    replaced_by text NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tag_replacements_cylinder ON tag_replacements (cylinder_id, replaced_at);

-- The database's own guard (the API checks first and names the holder): no cylinder is
-- archived with, or moved to, a void tag. Answers as the tag's unique key.
CREATE FUNCTION cylinders_tag_not_void() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tag_replacements WHERE old_tag_id = NEW.tag_id) THEN
        RAISE EXCEPTION 'tag % is void', NEW.tag_id
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'cylinders_tag_id_key';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER cylinders_tag_not_void BEFORE INSERT OR UPDATE OF tag_id ON cylinders
    FOR EACH ROW EXECUTE FUNCTION cylinders_tag_not_void();
