CREATE TABLE "pepper_checks" (
	"key_version" text PRIMARY KEY NOT NULL,
	"check_value" "bytea" NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL
);
