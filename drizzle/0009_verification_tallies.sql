CREATE TABLE "verification_tallies" (
	"initiative_id" uuid NOT NULL,
	"district" text NOT NULL,
	"decision" text NOT NULL,
	"reason" text NOT NULL,
	"roll_result" text NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "verification_tallies_pk" PRIMARY KEY("initiative_id","district","decision","reason","roll_result")
);
--> statement-breakpoint
-- Verifications started before this table: their tallies counted from the rows once.
INSERT INTO "verification_tallies" ("initiative_id", "district", "decision", "reason", "roll_result", "n")
SELECT s."initiative_id", s."district", coalesce(d."decision", ''), coalesce(d."reason", ''), coalesce(c."result", ''), count(*)
FROM "verifications" v
JOIN "signatures" s ON s."initiative_id" = v."initiative_id" AND s."status" <> 'withdrawn'
LEFT JOIN "verification_decisions" d ON d."initiative_id" = s."initiative_id" AND d."signature_id" = s."id"
LEFT JOIN "verification_roll_checks" c ON c."initiative_id" = s."initiative_id" AND c."signature_id" = s."id"
GROUP BY 1, 2, 3, 4, 5;
