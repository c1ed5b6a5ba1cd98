-- The check against the roll now reads an initiative's signatures by time signed, then id (it read
-- them by id): a check under way starts its pages again from the beginning, skipping what it has
-- already checked, so that no signature is left behind the new order's cursor.
UPDATE "verifications" SET "roll_check_after" = NULL WHERE "roll_check_done_at" IS NULL;
