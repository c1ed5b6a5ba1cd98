CREATE TABLE "paper_form_duplicates" (
	"initiative_id" uuid NOT NULL,
	"signer_hash" "bytea" NOT NULL,
	"sheet" text NOT NULL,
	"collector" text NOT NULL,
	"signature_id" uuid NOT NULL,
	CONSTRAINT "paper_form_duplicates_initiative_id_signer_hash_sheet_collector_pk" PRIMARY KEY("initiative_id","signer_hash","sheet","collector")
);
